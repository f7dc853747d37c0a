// The `tessera` binary. Subcommands grow with the project (standalone, check, ...); the
// engine benchmark is the separate `tessera-bench` binary (see bench/).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/check.h"
#include "common/config.h"
#include "common/logging.h"
#include "core/simd/distance.h"

namespace {
constexpr const char* kVersion = "0.1.0";
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tessera: a cloud-native vector database"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  CLI::App* info = app.add_subcommand("info", "print the build and the CPU features in use");
  info->callback([] {
    const auto cpu = tessera::simd::DetectCpuLevel();
    const auto active = tessera::simd::ActiveLevel();
    std::printf("tessera %s\ncpu simd level: %s\nactive distance kernels: %s%s\n", kVersion,
                std::string(tessera::simd::LevelName(cpu)).c_str(),
                std::string(tessera::simd::LevelName(active)).c_str(),
                active < cpu ? " (capped by TESSERA_SIMD_LEVEL)" : "");
  });

  std::string config_path;
  std::vector<std::string> overrides;
  int exit_code = 0;
  CLI::App* check = app.add_subcommand(
      "check", "round-trip a small write/read/delete through each configured backend");
  check->add_option("--config", config_path, "YAML configuration file (docs/configuration.md)");
  check->add_option("--set", overrides, "override one key, e.g. --set object_store.path=/data/obj")
      ->allow_extra_args(false);
  check->callback([&] {
    tessera::logging::Init("warn");
    auto loaded = config_path.empty() ? tessera::config::Config::LoadString("")
                                      : tessera::config::Config::LoadFile(config_path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "tessera check: %s\n", loaded.status().ToString().c_str());
      exit_code = 2;
      return;
    }
    tessera::config::Config config = std::move(loaded).value();
    for (const std::string& kv : overrides) {
      const auto eq = kv.find('=');
      const tessera::Status set = eq == std::string::npos
          ? tessera::Status::InvalidArgument("--set expects KEY=VALUE, got '" + kv + "'")
          : config.Set(kv.substr(0, eq), kv.substr(eq + 1), "flag --set");
      if (!set.ok()) {
        std::fprintf(stderr, "tessera check: %s\n", set.ToString().c_str());
        exit_code = 2;
        return;
      }
    }
    exit_code = tessera::cli::RunCheck(config, stdout);
  });

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
