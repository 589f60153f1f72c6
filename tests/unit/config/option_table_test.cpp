// The option table against what documents it: conf/redis-sidecar.conf, README.md's options table
// and --help. Each check returns its findings as text, so the tests below can also show that a
// missing, unknown or out-of-date option is found.

#include "redis_sidecar/config/option_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace redis_sidecar::config;

namespace {

std::string read_text(const char* path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

const option_spec* find_option(std::string_view name) {
    for (const option_spec& o : option_table())
        if (o.name == name) return &o;
    return nullptr;
}

std::string joined(const std::vector<std::string>& problems) {
    std::string out;
    for (const std::string& p : problems) out += p + "\n";
    return out;
}

bool mentions(const std::vector<std::string>& problems, const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
}

// --- conf/redis-sidecar.conf ---------------------------------------------------------------------

const std::regex documented_line(R"(^# ([a-z][a-z0-9-]*) = (.*)$)");
const std::regex section_line(R"(^# --- (.*[^ ]) -+$)");

struct documented {
    std::string value;
    std::string section;
    bool explained = false;  // a comment above it (over the option lines of its group)
};

// Every option of the table has one commented-out `# name = value` line, its default when it has
// one, with a comment above it, under the header of its section; the file documents nothing else,
// and its SIGHUP paragraph names exactly the reloadable options.
std::vector<std::string> conf_problems(const std::string& text) {
    const std::vector<std::string> lines = lines_of(text);
    std::vector<std::string> problems;
    std::map<std::string, documented> seen;
    std::string section;
    std::smatch m;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (!line.empty() && line[0] != '#') problems.push_back("line " + std::to_string(i + 1) + " is not a comment");
        if (std::regex_match(line, m, section_line)) section = m[1];
        if (!std::regex_match(line, m, documented_line)) continue;
        const std::string name = m[1];
        if (seen.count(name)) problems.push_back("'" + name + "' is documented twice");
        std::size_t above = i;
        while (above > 0 && std::regex_match(lines[above - 1], documented_line)) --above;
        const bool explained = above > 0 && lines[above - 1].rfind("# ", 0) == 0 &&
                               !std::regex_match(lines[above - 1], section_line);
        seen[name] = documented{m[2], section, explained};
    }
    for (const option_spec& o : option_table()) {
        const std::string name(o.name);
        const auto found = seen.find(name);
        if (found == seen.end()) {
            problems.push_back("'" + name + "' is not documented (no '# " + name + " = ...' line)");
            continue;
        }
        if (!o.default_text.empty() && found->second.value != o.default_text)
            problems.push_back("'" + name + "' shows '" + found->second.value + "', not its default '" +
                               std::string(o.default_text) + "'");
        if (!found->second.explained) problems.push_back("'" + name + "' has no comment above it");
        if (found->second.section != o.section)
            problems.push_back("'" + name + "' is under '" + found->second.section + "', not '" +
                               std::string(o.section) + "'");
    }
    for (const auto& [name, where] : seen)
        if (find_option(name) == nullptr) problems.push_back("'" + name + "' is documented but is no option");

    // The paragraph that starts "# SIGHUP", up to the next empty comment line.
    std::set<std::string> named_reloadable;
    const auto start = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("# SIGHUP", 0) == 0; });
    for (auto l = start; l != lines.end() && *l != "#" && !l->empty(); ++l) {
        const std::regex word(R"([a-z][a-z0-9-]*)");
        for (auto w = std::sregex_iterator(l->begin(), l->end(), word); w != std::sregex_iterator(); ++w)
            if (find_option(w->str()) != nullptr) named_reloadable.insert(w->str());
    }
    for (const option_spec& o : option_table()) {
        const bool named = named_reloadable.count(std::string(o.name)) > 0;
        if (o.reloadable && !named) problems.push_back("the SIGHUP paragraph does not name '" + std::string(o.name) + "'");
        if (!o.reloadable && named)
            problems.push_back("the SIGHUP paragraph names '" + std::string(o.name) + "', which needs a restart");
    }
    return problems;
}

// --- README.md -----------------------------------------------------------------------------------

// The cells of a markdown table row; "\|" is a '|' inside a cell.
std::vector<std::string> cells_of(const std::string& row) {
    std::vector<std::string> cells;
    std::string cell;
    for (std::size_t i = 1; i < row.size(); ++i) {
        if (row[i] == '\\' && i + 1 < row.size() && row[i + 1] == '|') {
            cell += '|';
            ++i;
        } else if (row[i] == '|') {
            cells.push_back(cell.size() >= 2 ? cell.substr(1, cell.size() - 2) : cell);
            cell.clear();
        } else {
            cell += row[i];
        }
    }
    return cells;
}

// Every option and command-line flag has a row "| `--name VALUE` | default | what |" with the
// table's value name, and its default (when it has one) in backquotes; no row names another flag.
std::vector<std::string> readme_problems(const std::string& text) {
    std::vector<std::string> problems;
    std::set<std::string> listed;
    const std::regex flag(R"(`--([a-z][a-z0-9-]*)(?: ([^`]+))?`)");
    for (const std::string& row : lines_of(text)) {
        if (row.rfind("| `--", 0) != 0) continue;
        const std::vector<std::string> cells = cells_of(row);
        if (cells.size() < 3) {
            problems.push_back("row '" + row + "' has fewer than three cells");
            continue;
        }
        for (auto f = std::sregex_iterator(cells[0].begin(), cells[0].end(), flag); f != std::sregex_iterator(); ++f) {
            const std::string name = (*f)[1];
            const std::string value_name = (*f)[2];
            listed.insert(name);
            std::string_view expected_value_name;
            if (const option_spec* o = find_option(name)) {
                expected_value_name = o->value_name;
                if (!o->default_text.empty() && cells[1].find("`" + std::string(o->default_text) + "`") == std::string::npos)
                    problems.push_back("--" + name + ": the default column does not show `" +
                                       std::string(o->default_text) + "`");
            } else {
                const auto& flags = command_line_flags();
                const auto c = std::find_if(flags.begin(), flags.end(), [&](const auto& x) { return x.name == name; });
                if (c == flags.end()) {
                    problems.push_back("--" + name + " is listed but is no option");
                    continue;
                }
                expected_value_name = c->value_name;
            }
            if (value_name != expected_value_name)
                problems.push_back("--" + name + " is listed with '" + value_name + "', not '" +
                                   std::string(expected_value_name) + "'");
        }
    }
    for (const option_spec& o : option_table())
        if (!listed.count(std::string(o.name))) problems.push_back("--" + std::string(o.name) + " is not listed");
    for (const command_line_flag& f : command_line_flags())
        if (!listed.count(std::string(f.name))) problems.push_back("--" + std::string(f.name) + " is not listed");
    return problems;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

// Each option's entry in --help: its line and the lines of its description below it.
std::map<std::string, std::string> help_entries(const std::string& help) {
    std::map<std::string, std::string> entries;
    std::string current;
    const std::regex entry(R"(^  (?:-[a-z] \[ )?--([a-z][a-z0-9-]*).*)");
    std::smatch m;
    for (const std::string& line : lines_of(help)) {
        if (std::regex_match(line, m, entry))
            current = m[1];
        else if (line.empty() || line[0] != ' ')
            current.clear();
        if (!current.empty()) entries[current] += line + "\n";
    }
    return entries;
}

}  // namespace

TEST(option_table, names_are_unique_and_every_default_parses) {
    std::set<std::string_view> names;
    for (const option_spec& o : option_table()) {
        EXPECT_TRUE(names.insert(o.name).second) << o.name;
        EXPECT_FALSE(o.help.empty()) << o.name;
        EXPECT_FALSE(o.value_name.empty()) << o.name;
        settings s;
        if (!o.default_text.empty()) {
            EXPECT_NO_THROW(o.parse({std::string(o.default_text)}, s)) << o.name;
        }
    }
    for (const command_line_flag& f : command_line_flags()) EXPECT_TRUE(names.insert(f.name).second) << f.name;
}

TEST(option_table, shipped_config_file_documents_every_option) {
    const std::string conf = read_text(REDIS_SIDECAR_CONF_FILE);
    ASSERT_FALSE(conf.empty()) << REDIS_SIDECAR_CONF_FILE;
    const std::vector<std::string> problems = conf_problems(conf);
    EXPECT_TRUE(problems.empty()) << REDIS_SIDECAR_CONF_FILE << ":\n" << joined(problems);
}

TEST(option_table, config_file_check_finds_what_is_missing_unknown_or_out_of_date) {
    const std::string conf = read_text(REDIS_SIDECAR_CONF_FILE);
    EXPECT_TRUE(mentions(conf_problems(replaced(conf, "# timeout = 0\n", "")), "'timeout' is not documented"));
    EXPECT_TRUE(mentions(conf_problems(conf + "\n# A new knob.\n# no-such-option = 1\n"),
                         "'no-such-option' is documented but is no option"));
    EXPECT_TRUE(mentions(conf_problems(replaced(conf, "# threads = 1\n", "# threads = 2\n")), "not its default '1'"));
    EXPECT_TRUE(mentions(conf_problems(replaced(conf, "# Event-loop threads; each has its own upstream connections.\n", "")),
                         "'threads' has no comment above it"));
    EXPECT_TRUE(mentions(conf_problems(conf + "\n# Moved here.\n# threads = 1\n"), "'threads' is documented twice"));
    EXPECT_TRUE(mentions(conf_problems(conf + "threads = 2\n"), "is not a comment"));
    EXPECT_TRUE(mentions(conf_problems(replaced(conf, "# --- Observability", "# --- Elsewhere")),
                         "'metrics-listen' is under 'Elsewhere', not 'Observability'"));
    EXPECT_TRUE(mentions(conf_problems(replaced(conf, " log-level, upstream-timeout,", " upstream-timeout,")),
                         "does not name 'log-level'"));
    EXPECT_TRUE(mentions(conf_problems(replaced(conf, " log-level, upstream-timeout,", " threads, upstream-timeout,")),
                         "names 'threads', which needs a restart"));
}

TEST(option_table, readme_lists_every_option) {
    const std::string readme = read_text(REDIS_SIDECAR_README);
    ASSERT_FALSE(readme.empty()) << REDIS_SIDECAR_README;
    const std::vector<std::string> problems = readme_problems(readme);
    EXPECT_TRUE(problems.empty()) << REDIS_SIDECAR_README << ":\n" << joined(problems);
}

TEST(option_table, readme_check_finds_what_is_missing_unknown_or_out_of_date) {
    const std::string readme = read_text(REDIS_SIDECAR_README);
    const std::string row = "| `--threads N` | `1` | event-loop threads |\n";
    EXPECT_TRUE(mentions(readme_problems(replaced(readme, row, "")), "--threads is not listed"));
    EXPECT_TRUE(mentions(readme_problems(replaced(readme, row, row + "| `--fibers N` | `1` | x |\n")),
                         "--fibers is listed but is no option"));
    EXPECT_TRUE(mentions(readme_problems(replaced(readme, row, "| `--threads COUNT` | `1` | x |\n")),
                         "--threads is listed with 'COUNT', not 'N'"));
    EXPECT_TRUE(mentions(readme_problems(replaced(readme, row, "| `--threads N` | `2` | x |\n")),
                         "--threads: the default column does not show `1`"));
}

TEST(option_table, help_shows_every_option_with_its_value_default_and_reload) {
    const std::string help = help_text();
    const std::map<std::string, std::string> entries = help_entries(help);
    for (const option_spec& o : option_table()) {
        const auto found = entries.find(std::string(o.name));
        ASSERT_NE(found, entries.end()) << o.name << " is not in --help:\n" << help;
        const std::string& entry = found->second;
        EXPECT_EQ(entry.rfind("  --" + std::string(o.name) + " " + std::string(o.value_name), 0), 0u) << entry;
        if (!o.default_text.empty()) {
            EXPECT_NE(entry.find("(=" + std::string(o.default_text) + ")"), std::string::npos) << entry;
        }
        EXPECT_EQ(entry.find("[reload]") != std::string::npos, o.reloadable) << entry;
    }
    for (const command_line_flag& f : command_line_flags())
        EXPECT_TRUE(entries.count(std::string(f.name))) << f.name << " is not in --help:\n" << help;
}
