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
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)

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
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
  set(CMAKE_C_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()
