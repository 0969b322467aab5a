# kvol_module(NAME <lib> DIR <dir> DEPS <libs...> [TEST_DEPS <libs...>])
# A static library from every *.cc in DIR that is not a *_test.cc, plus (when any exist) a test
# binary <lib>_test from the *_test.cc files, registered with ctest via gtest_discover_tests.
include(GoogleTest)
function(kvol_module)
  cmake_parse_arguments(M "" "NAME;DIR" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB _all CONFIGURE_DEPENDS ${M_DIR}/*.cc)
  set(_srcs)
  set(_tests)
  foreach(f ${_all})
    if(f MATCHES "_test\\.cc$")
      list(APPEND _tests ${f})
    else()
      list(APPEND _srcs ${f})
    endif()
  endforeach()
  if(NOT _srcs)
    return()  # a module whose first files are still being written
  endif()
  add_library(${M_NAME} STATIC ${_srcs})
  target_link_libraries(${M_NAME} PUBLIC ${M_DEPS})
  if(_tests)
    add_executable(${M_NAME}_test ${_tests})
    target_link_libraries(${M_NAME}_test PRIVATE ${M_NAME} ${M_TEST_DEPS} GTest::gmock GTest::gtest_main)
    gtest_discover_tests(${M_NAME}_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
  endif()
endfunction()

# kvol_link_allocator(<executable>): links jemalloc into it when KVOL_JEMALLOC is on. A static
# archive is linked whole, so its malloc replaces glibc's even where nothing in the executable's
# own objects calls malloc directly (operator new lives in libstdc++).
function(kvol_link_allocator target)
  if(NOT KVOL_JEMALLOC)
    return()
  endif()
  if(JEMALLOC_LIBRARY MATCHES "\\.a$")
    target_link_libraries(${target} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${JEMALLOC_LIBRARY}>"
                                            Threads::Threads ${CMAKE_DL_LIBS} m)
  else()
    target_link_libraries(${target} PRIVATE ${JEMALLOC_LIBRARY})
  endif()
endfunction()
