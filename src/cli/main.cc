// The `tessera` binary. Subcommands grow with the project (standalone, check, ...); the
// engine benchmark is the separate `tessera-bench` binary (see bench/).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/http_bench.h"
#include "cli/check.h"
#include "common/config.h"
#include "common/logging.h"
#include "core/simd/distance.h"
#include "server/standalone.h"

namespace {
constexpr const char* kVersion = "0.1.0";

// The file (or defaults), the environment, then each --set KEY=VALUE.
tessera::Result<tessera::config::Config> LoadConfig(const std::string& path, const std::vector<std::string>& overrides) {
  auto loaded = path.empty() ? tessera::config::Config::LoadString("") : tessera::config::Config::LoadFile(path);
  if (!loaded.ok()) return loaded.status();
  tessera::config::Config config = std::move(loaded).value();
  for (const std::string& kv : overrides) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) return tessera::Status::InvalidArgument("--set expects KEY=VALUE, got '" + kv + "'");
    TESSERA_RETURN_IF_ERROR(config.Set(kv.substr(0, eq), kv.substr(eq + 1), "flag --set"));
  }
  return config;
}
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
  std::string check_data_dir;
  check->add_option("--config", config_path, "YAML configuration file (docs/configuration.md)");
  check->add_option("--data-dir", check_data_dir,
                    "data directory whose embedded backends to check (server.data_dir, default ./data)");
  check->add_option("--set", overrides, "override one key, e.g. --set object_store.path=/data/obj")
      ->allow_extra_args(false);
  check->callback([&] {
    tessera::logging::Init("warn");
    auto loaded = LoadConfig(config_path, overrides);
    if (!loaded.ok()) {
      std::fprintf(stderr, "tessera check: %s\n", loaded.status().ToString().c_str());
      exit_code = 2;
      return;
    }
    tessera::config::Config config = std::move(loaded).value();
    // The backends the standalone would open: storage paths left at their defaults live
    // under server.data_dir.
    tessera::Status placed = tessera::Status::OK();
    if (!check_data_dir.empty()) placed = config.Set("server.data_dir", check_data_dir, "flag --data-dir");
    if (placed.ok()) placed = tessera::server::ApplyDataDir(config, /*create=*/false);
    if (!placed.ok()) {
      std::fprintf(stderr, "tessera check: %s\n", placed.ToString().c_str());
      exit_code = 2;
      return;
    }
    exit_code = tessera::cli::RunCheck(config, stdout);
  });

  std::string standalone_config;
  std::string data_dir;
  int port = -1;
  std::vector<std::string> standalone_overrides;
  CLI::App* standalone = app.add_subcommand(
      "standalone", "run every role in one process on embedded storage under --data-dir");
  standalone->add_option("--config", standalone_config, "YAML configuration file (docs/configuration.md)");
  standalone->add_option("--data-dir", data_dir, "directory for all local state (server.data_dir, default ./data)");
  standalone->add_option("--port", port, "port of the REST API, /healthz, /readyz and /metrics (server.port)");
  standalone->add_option("--set", standalone_overrides, "override one key, e.g. --set datanode.seal_idle_time=1s")
      ->allow_extra_args(false);
  standalone->callback([&] {
    auto loaded = LoadConfig(standalone_config, standalone_overrides);
    if (!loaded.ok()) {
      std::fprintf(stderr, "tessera standalone: %s\n", loaded.status().ToString().c_str());
      exit_code = 2;
      return;
    }
    tessera::config::Config config = std::move(loaded).value();
    tessera::Status set = tessera::Status::OK();
    if (!data_dir.empty()) set = config.Set("server.data_dir", data_dir, "flag --data-dir");
    if (set.ok() && port >= 0) set = config.Set("server.port", std::to_string(port), "flag --port");
    if (!set.ok()) {
      std::fprintf(stderr, "tessera standalone: %s\n", set.ToString().c_str());
      exit_code = 2;
      return;
    }
    tessera::logging::Init(config.GetString("logging.level"));
    exit_code = tessera::server::RunStandalone(std::move(config));
  });

  tessera::bench::HttpBenchOptions bench_options;
  CLI::App* bench = app.add_subcommand(
      "bench", "benchmark a server over HTTP (Milvus REST v2) against the same index in-process (bench/README.md)");
  tessera::bench::AddHttpBenchOptions(*bench, bench_options);
  bench->callback([&] { exit_code = tessera::bench::RunHttpBench(bench_options, "tessera bench"); });

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
