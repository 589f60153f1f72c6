#include "redis_sidecar/config/config.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "option_values.hpp"
#include "redis_sidecar/config/option_table.hpp"

namespace po = boost::program_options;

namespace redis_sidecar::config {

namespace {

using values::invalid;

// --help's layout: wide enough that option names and paths are not broken in the middle.
constexpr unsigned help_columns = 110;
constexpr unsigned help_description_columns = 60;

// Every value is read as text (words, for a multiword option) and parsed by the option table:
// Program_options checks only the names and how often each is given.
po::value_semantic* semantic_of(const option_spec& o) {
    const std::string value_name(o.value_name);
    const std::string default_text(o.default_text);
    if (o.multiword) {
        auto* value = po::value<std::vector<std::string>>()->multitoken()->value_name(value_name);
        if (!default_text.empty()) value->default_value({default_text}, default_text);
        return value;
    }
    auto* value = po::value<std::string>()->value_name(value_name);
    if (!default_text.empty()) value->default_value(default_text);
    return value;
}

std::string help_of(const option_spec& o) { return std::string(o.help) + (o.reloadable ? " [reload]" : ""); }

po::options_description describe() {
    po::options_description all(
        "Options (each also a 'name = value' line of the --config file; SIGHUP applies those marked [reload])",
        help_columns, help_description_columns);
    po::options_description command_line("Command line", help_columns, help_description_columns);
    for (const command_line_flag& f : command_line_flags()) {
        std::string names(f.name);
        if (!f.letter.empty()) names.append(",").append(f.letter);
        if (f.value_name.empty())
            command_line.add_options()(names.c_str(), std::string(f.help).c_str());
        else
            command_line.add_options()(names.c_str(), po::value<std::string>()->value_name(std::string(f.value_name)),
                                       std::string(f.help).c_str());
    }
    all.add(command_line);
    std::string_view section;
    std::optional<po::options_description> group;
    for (const option_spec& o : option_table()) {
        if (o.section != section) {
            if (group) all.add(*group);
            section = o.section;
            group.emplace(std::string(section), help_columns, help_description_columns);
        }
        group->add_options()(std::string(o.name).c_str(), semantic_of(o), help_of(o).c_str());
    }
    if (group) all.add(*group);
    return all;
}

// Program_options hands a word that follows no option to positional options, and store() skips
// it when there are none: refused here, or "redis-sidecar 6380" would run with the defaults.
void refuse_positional(const po::parsed_options& parsed) {
    for (const po::option& o : parsed.options)
        if (o.string_key.empty())
            throw std::runtime_error("unexpected argument '" + (o.value.empty() ? std::string() : o.value.front()) +
                                     "': every option is a flag, --name VALUE");
}

// The words given for `o`, from the command line or the file.
std::vector<std::string> words_of(const option_spec& o, const po::variable_value& value) {
    if (o.multiword) return value.as<std::vector<std::string>>();
    return {value.as<std::string>()};
}

void require_readable(const std::string& path, const std::string& option) {
    if (!std::ifstream(path)) invalid(option, "cannot read '" + path + "'");
}

// The files are loaded (and their contents checked) when the sidecar builds its TLS context; here
// only what can be said from the options themselves.
void validate_tls(const settings& s) {
    const std::pair<const char*, const std::string*> options[] = {
        {"upstream-tls-ca-file", &s.upstream_tls_ca_file},
        {"upstream-tls-cert-file", &s.upstream_tls_cert_file},
        {"upstream-tls-key-file", &s.upstream_tls_key_file},
        {"upstream-tls-server-name", &s.upstream_tls_server_name}};
    for (const auto& [option, value] : options)
        if (!s.upstream_tls && !value->empty()) invalid(option, "is set but upstream-tls is no");
    if (!s.upstream_tls) return;
    if (s.upstream_tls_cert_file.empty() != s.upstream_tls_key_file.empty())
        invalid(s.upstream_tls_key_file.empty() ? "upstream-tls-key-file" : "upstream-tls-cert-file",
                "a client certificate needs both upstream-tls-cert-file and upstream-tls-key-file");
    for (const auto& [option, value] : {options[0], options[1], options[2]})
        if (!value->empty()) require_readable(*value, option);
}

std::string read_password(const std::string& path, const std::string& option) {
    std::ifstream in(path);
    if (!in) invalid(option, "cannot read '" + path + "'");
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) invalid(option, "'" + path + "' has an empty first line");
    return line;
}

// What involves several options, or reads the files that hold the passwords.
void check_together(settings& s) {
    if (!s.upstream_password_file.empty())
        s.upstream_password = read_password(s.upstream_password_file, "upstream-password-file");
    validate_tls(s);
    if (!s.requirepass_file.empty()) {
        if (!s.requirepass.empty()) invalid("requirepass-file", "give requirepass or requirepass-file, not both");
        s.requirepass = read_password(s.requirepass_file, "requirepass-file");
    }
}

}  // namespace

std::string help_text() {
    std::ostringstream out;
    out << "Usage: redis-sidecar [options]\n" << describe() << "\n";
    return out.str();
}

parse_outcome parse_command_line(int argc, const char* const argv[], settings& out) {
    const po::options_description options = describe();
    po::variables_map vm;
    try {
        const po::parsed_options flags = po::parse_command_line(argc, argv, options);
        refuse_positional(flags);
        po::store(flags, vm);
        if (vm.count("help")) {
            std::cout << help_text();
            return parse_outcome::exit_success;
        }
        if (vm.count("version")) {
            std::cout << "redis-sidecar " << REDIS_SIDECAR_VERSION << "\n";
            return parse_outcome::exit_success;
        }
        if (vm.count("config")) {
            const std::string path = vm["config"].as<std::string>();
            std::ifstream file(path);
            if (!file) invalid("config", "cannot read '" + path + "'");
            // Stored after the command line, so flags win over the file.
            po::store(po::parse_config_file(file, options), vm);
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw std::runtime_error(e.what());
    }
    settings parsed;  // every default; what was given replaces it
    for (const option_spec& o : option_table()) {
        const auto given = vm.find(std::string(o.name));
        if (given != vm.end() && !given->second.defaulted()) o.parse(words_of(o, given->second), parsed);
    }
    check_together(parsed);
    out = std::move(parsed);
    return parse_outcome::run;
}

reload_plan plan_reload(const settings& running, const settings& fresh) {
    reload_plan plan;
    for (const option_spec& o : option_table()) {
        const std::string before = o.text(running);
        const std::string after = o.text(fresh);
        if (before == after) continue;
        if (!o.reloadable)
            plan.need_restart.emplace_back(o.name);
        else if (o.secret)
            plan.applied.push_back(std::string(o.name) + ": (changed)");
        else
            plan.applied.push_back(std::string(o.name) + ": " + before + " -> " + after);
    }
    return plan;
}

void copy_reloadable(const settings& fresh, settings& target) {
    for (const option_spec& o : option_table())
        if (o.reloadable) o.copy(fresh, target);
}

}  // namespace redis_sidecar::config
