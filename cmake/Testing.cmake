# kgate_add_test(NAME SOURCES a.cpp b.cpp LIBS x y LABELS unit TIMEOUT 120)
# One test binary = one CTest test (fixtures such as PostgreSQL start once per binary).
function(kgate_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ENV" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE kgate_flags GTest::gtest GTest::gmock GTest::gtest_main ${T_LIBS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name} --gtest_color=no)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "KGATE_BUILD_DIR=${PROJECT_BINARY_DIR};KGATE_SOURCE_DIR=${PROJECT_SOURCE_DIR};${T_ENV}")
endfunction()
