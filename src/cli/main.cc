// The `tessera` binary. Subcommands grow with the project (standalone, check, ...); the
// engine benchmark is the separate `tessera-bench` binary (see bench/).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

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

  CLI11_PARSE(app, argc, argv);
  return 0;
}
