# Helpers every src/X/CMakeLists.txt uses. Warnings and sanitizers apply to our targets only.
include(GoogleTest)

function(tessera_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(TESSERA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(TESSERA_SANITIZE)
    string(REPLACE ";" "," _san "${TESSERA_SANITIZE}")
    target_compile_options(${target} PRIVATE -fsanitize=${_san} -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=${_san})
  endif()
endfunction()

# Options for test code only (test executables and their support libraries):
# tessera_target_options plus TESSERA_TEST_COMPILE_OPTIONS. `make test-sanitize` sets the
# latter to -O0, because test sources are heavy to compile (gtest macros, instrumented by the
# sanitizers) and light to run, while the code under test keeps the build type's flags.
function(tessera_test_target_options target)
  tessera_target_options(${target})
  target_compile_options(${target} PRIVATE ${TESSERA_TEST_COMPILE_OPTIONS})
endfunction()

# tessera_add_library(name SOURCES a.cc b.cc DEPS tessera::common ...) -> target tessera_<name>,
# alias tessera::<name>, include root src/.
function(tessera_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tessera_${name} STATIC ${ARG_SOURCES})
  add_library(tessera::${name} ALIAS tessera_${name})
  target_include_directories(tessera_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(tessera_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  tessera_target_options(tessera_${name})
endfunction()

# tessera_add_test(name SOURCES x_test.cc DEPS tessera::core LABELS unit)
function(tessera_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT TESSERA_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    TESSERA_DATASETS_DIR="${PROJECT_SOURCE_DIR}/../shared/datasets"
    TESSERA_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data")
  tessera_test_target_options(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()

# tessera_add_fuzzer(name SOURCES a.cc ... CORPUS dir SECONDS n [LINK libs...] [ARGS flags...])
# A libFuzzer target and its ctest smoke run (label unit). The main build uses GCC, so the
# fuzzer is compiled by clang++ directly, one object per source (SOURCES relative to src/)
# so Ninja parallelises and rebuilds incrementally, with ASan + UBSan. The smoke run fuzzes
# for SECONDS from the checked-in seeds in CORPUS, on a scratch copy. Configuring the tests
# without clang++ is an error: scripts/install-deps.sh installs it, and a suite without
# its fuzz runs is incomplete. A sanitizer build (TESSERA_SANITIZE) skips fuzzers: they
# carry ASan + UBSan already and run in the plain build's suite.
function(tessera_add_fuzzer name)
  cmake_parse_arguments(ARG "" "CORPUS;SECONDS" "SOURCES;LINK;ARGS" ${ARGN})
  if(NOT TESSERA_BUILD_TESTS OR TESSERA_SANITIZE)
    return()
  endif()
  find_program(CLANG_CXX clang++)
  if(NOT CLANG_CXX)
    message(FATAL_ERROR "clang++ not found: needed for the ${name} libFuzzer test (run scripts/install-deps.sh)")
  endif()
  set(flags -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
  set(objects)
  foreach(src IN LISTS ARG_SOURCES)
    string(REPLACE "/" "_" obj "${src}")
    set(obj "${CMAKE_CURRENT_BINARY_DIR}/${name}_objs/${obj}.o")
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${CLANG_CXX} ${flags} -I${PROJECT_SOURCE_DIR}/src -MD -MF ${obj}.d
              -c ${PROJECT_SOURCE_DIR}/src/${src} -o ${obj}
      DEPENDS ${PROJECT_SOURCE_DIR}/src/${src}
      DEPFILE ${obj}.d
      COMMENT "clang++ (fuzz) ${src}"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()
  set(binary ${CMAKE_CURRENT_BINARY_DIR}/${name})
  add_custom_command(
    OUTPUT ${binary}
    COMMAND ${CLANG_CXX} ${flags} ${objects} ${ARG_LINK} -o ${binary}
    DEPENDS ${objects}
    COMMENT "Linking libFuzzer target ${name}"
    VERBATIM)
  add_custom_target(${name}_bin ALL DEPENDS ${binary})

  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}_work)
  file(MAKE_DIRECTORY ${work})
  string(REPLACE ";" " " extra "${ARG_ARGS}")
  add_test(NAME ${name}_smoke
    COMMAND sh -c "rm -rf corpus && mkdir -p corpus && cp \"$0\"/* corpus/ && \"$1\" -max_total_time=${ARG_SECONDS} -seed=1 -timeout=10 -rss_limit_mb=2048 ${extra} corpus"
            ${ARG_CORPUS} ${binary})
  set_tests_properties(${name}_smoke PROPERTIES LABELS unit WORKING_DIRECTORY ${work} TIMEOUT 120)
endfunction()
