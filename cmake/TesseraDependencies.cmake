# Every dependency comes from a Debian 12 package installed by scripts/install-deps.sh.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED)
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)
find_package(faiss REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(simdjson REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
# libnats-dev: the NATS C client, for NatsLog. Through pkg-config: Debian's cnats CMake
# package names a libnats_static.a that the package does not ship.
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
add_library(cnats::nats ALIAS PkgConfig::NATS)
# libcpp-httplib-dev: the HTTP client of the tests, the harness and the benchmark.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# libhttp-parser-dev: HTTP/1.x request parsing for the server (src/server); no pkg-config file.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(tessera_http_parser INTERFACE)
target_include_directories(tessera_http_parser SYSTEM INTERFACE ${HTTP_PARSER_INCLUDE_DIR})
target_link_libraries(tessera_http_parser INTERFACE ${HTTP_PARSER_LIBRARY})
add_library(HttpParser::HttpParser ALIAS tessera_http_parser)
# S3ObjectStore: HTTP(S) + SigV4 (libcurl), payload hashes (OpenSSL), XML (expat).
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(EXPAT REQUIRED)

# gRPC and protobuf for EtcdMetaStore (etcd v3 API). Debian 12's gRPC CMake config expects
# CMake's FindProtobuf and works only partly, so both come through pkg-config; the code
# generators are the Debian binaries.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
pkg_check_modules(PROTOBUF REQUIRED IMPORTED_TARGET protobuf)
find_program(TESSERA_PROTOC protoc REQUIRED)
find_program(TESSERA_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# ISA-L provides CRC32C (crc32_iscsi) with hardware acceleration and a portable fallback.
find_path(ISAL_INCLUDE_DIR isa-l/crc.h REQUIRED)
find_library(ISAL_LIBRARY isal REQUIRED)
add_library(tessera_isal INTERFACE)
target_include_directories(tessera_isal SYSTEM INTERFACE ${ISAL_INCLUDE_DIR})
target_link_libraries(tessera_isal INTERFACE ${ISAL_LIBRARY})
add_library(isal::isal ALIAS tessera_isal)

# OpenBLAS' cblas header, for the batched FLAT path.
find_path(CBLAS_INCLUDE_DIR cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas REQUIRED)
find_library(OPENBLAS_LIBRARY NAMES openblas REQUIRED)
add_library(tessera_openblas INTERFACE)
target_include_directories(tessera_openblas SYSTEM INTERFACE ${CBLAS_INCLUDE_DIR})
target_link_libraries(tessera_openblas INTERFACE ${OPENBLAS_LIBRARY})
add_library(openblas::openblas ALIAS tessera_openblas)

if(TESSERA_BUILD_TESTS)
  find_package(GTest REQUIRED)
  # nats-server (Debian installs it in /usr/sbin): the NatsLog tests start their own.
  find_program(TESSERA_NATS_SERVER nats-server PATHS /usr/sbin /usr/local/sbin)
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
  set(CMAKE_C_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()
