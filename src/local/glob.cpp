#include "redis_sidecar/local/glob.hpp"

#include <cctype>

namespace redis_sidecar::local {

namespace {

// Redis walks C strings with lengths but peeks one byte past the end in places, where an sds
// always has its NUL terminator; `at` gives the same answer for views without one.
struct cursor {
    const char* p;
    long n;  // may run below zero exactly where Redis's does, so it stays signed

    char at(long i) const { return i < n ? p[i] : '\0'; }
    void advance(long k = 1) {
        p += k;
        n -= k;
    }
};

// Redis compares bytes as (signed) char, which matters for ranges of bytes >= 0x80.
int byte(char c) { return static_cast<signed char>(c); }

int fold(int c, bool nocase) { return nocase ? std::tolower(c) : c; }

bool match_impl(cursor pat, cursor str, bool nocase, bool& skip_longer, int nesting);

// Handles `[...]` at `pat` (just past the '['); false when the class rejects str's first byte.
bool match_class(cursor& pat, const cursor& str, bool nocase) {
    const bool negate = pat.at(0) == '^';
    if (negate) pat.advance();
    bool matched = false;
    for (;;) {
        if (pat.at(0) == '\\' && pat.n >= 2) {
            pat.advance();
            if (pat.at(0) == str.at(0)) matched = true;
        } else if (pat.at(0) == ']') {
            break;
        } else if (pat.n == 0) {
            // An unclosed class ends with the pattern; step back so the caller's advance lands
            // exactly at the end.
            pat.p -= 1;
            pat.n += 1;
            break;
        } else if (pat.n >= 3 && pat.at(1) == '-') {
            int start = byte(pat.at(0));
            int end = byte(pat.at(2));
            int c = byte(str.at(0));
            if (start > end) std::swap(start, end);
            if (nocase) {
                start = std::tolower(start);
                end = std::tolower(end);
                c = std::tolower(c);
            }
            pat.advance(2);
            if (c >= start && c <= end) matched = true;
        } else if (fold(byte(pat.at(0)), nocase) == fold(byte(str.at(0)), nocase)) {
            matched = true;
        }
        pat.advance();
    }
    return negate ? !matched : matched;
}

bool match_star(cursor pat, cursor str, bool nocase, bool& skip_longer, int nesting) {
    while (pat.n > 0 && pat.at(1) == '*') pat.advance();
    if (pat.n == 1) return true;
    cursor rest{pat.p + 1, pat.n - 1};
    while (str.n > 0) {
        if (match_impl(rest, str, nocase, skip_longer, nesting + 1)) return true;
        // Once the rest failed from every later position, longer matches of an earlier '*'
        // cannot help either.
        if (skip_longer) return false;
        str.advance();
    }
    skip_longer = true;
    return false;
}

bool match_impl(cursor pat, cursor str, bool nocase, bool& skip_longer, int nesting) {
    if (nesting > 1000) return false;
    while (pat.n > 0 && str.n > 0) {
        switch (pat.at(0)) {
            case '*':
                return match_star(pat, str, nocase, skip_longer, nesting);
            case '?':
                str.advance();
                break;
            case '[':
                pat.advance();
                if (!match_class(pat, str, nocase)) return false;
                str.advance();
                break;
            case '\\':
                if (pat.n >= 2) pat.advance();
                [[fallthrough]];
            default:
                if (fold(byte(pat.at(0)), nocase) != fold(byte(str.at(0)), nocase)) return false;
                str.advance();
                break;
        }
        pat.advance();
        if (str.n == 0) {
            while (pat.at(0) == '*') pat.advance();
            break;
        }
    }
    return pat.n == 0 && str.n == 0;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view subject, bool nocase) {
    bool skip_longer = false;
    return match_impl(cursor{pattern.data(), static_cast<long>(pattern.size())},
                      cursor{subject.data(), static_cast<long>(subject.size())}, nocase, skip_longer, 0);
}

}  // namespace redis_sidecar::local
