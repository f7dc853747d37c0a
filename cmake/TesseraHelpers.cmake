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
  tessera_target_options(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
