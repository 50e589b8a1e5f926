# Tests, in three kinds kept apart (STYLE.md 12):
#   unit/         white-box tests of one layer, validating after every step;
#   conformance/  portable Win32 programs that also build with mingw for Wine;
#   stress/       threads, fault injection and long runs over the public API
#                 with the registry checked against the host's own map.

file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(unit_${name} ${src})
  target_link_libraries(unit_${name} PRIVATE winmem_internal)
  add_test(NAME unit/${name} COMMAND unit_${name})
endforeach()

file(GLOB CONFORMANCE_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/conformance/*.c)
foreach(src ${CONFORMANCE_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(conf_${name} ${src})
  target_include_directories(conf_${name} BEFORE PRIVATE
    ${CMAKE_SOURCE_DIR}/include/compat ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(conf_${name} PRIVATE winmem_static)
  # L"..." is UTF-16 in a Win32 program, as Winelib builds it (DESIGN.md).
  target_compile_options(conf_${name} PRIVATE -fshort-wchar)
  add_test(NAME conformance/${name} COMMAND conf_${name})
endforeach()
# Write watch again with the fallback mechanism the host-supported one hides.
add_test(NAME conformance/vm_write_watch-protect COMMAND conf_vm_write_watch)
set_tests_properties(conformance/vm_write_watch-protect PROPERTIES
  ENVIRONMENT WINMEM_WRITE_WATCH=protect)

# A stress test is one file, tests/stress/<name>.c, or a directory,
# tests/stress/<name>/, whose .c files make one program; either way it is
# stress_<name>, run as the test stress/<name>.
file(GLOB STRESS_TESTS CONFIGURE_DEPENDS LIST_DIRECTORIES true ${CMAKE_SOURCE_DIR}/tests/stress/*)
foreach(entry ${STRESS_TESTS})
  if(IS_DIRECTORY ${entry})
    get_filename_component(name ${entry} NAME)
    file(GLOB srcs CONFIGURE_DEPENDS ${entry}/*.c)
  elseif(entry MATCHES "\\.c$")
    get_filename_component(name ${entry} NAME_WE)
    set(srcs ${entry})
  else()
    continue()
  endif()
  if(NOT srcs)
    continue()
  endif()
  add_executable(stress_${name} ${srcs})
  target_link_libraries(stress_${name} PRIVATE winmem_internal)
  add_test(NAME stress/${name} COMMAND stress_${name})
  set_tests_properties(stress/${name} PROPERTIES TIMEOUT 300)
endforeach()

# make bench: side-by-side ratios, never part of the tests.
file(GLOB BENCHES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/bench/*.c)
foreach(src ${BENCHES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(bench_${name} EXCLUDE_FROM_ALL ${src})
  target_link_libraries(bench_${name} PRIVATE winmem_internal)
  list(APPEND WINMEM_BENCH_TARGETS bench_${name})
endforeach()
if(WINMEM_BENCH_TARGETS)
  add_custom_target(benches DEPENDS ${WINMEM_BENCH_TARGETS})
endif()

# heap_bench runs every allocator in a child of its own, since each defines
# malloc.  jemalloc and tcmalloc (Debian's shared libraries; tcmalloc has no
# -dev link) are preloaded into the child by path; mimalloc's mi_* API is
# linked into heap_bench_mimalloc, heap_bench.c built once more.  That name
# is not bench_*, so make bench runs it only through bench_heap_bench.  A
# library not found here is "n/a" in the tables.
if(TARGET bench_heap_bench)
  find_library(WINMEM_JEMALLOC NAMES libjemalloc.so.2 jemalloc)
  find_library(WINMEM_TCMALLOC NAMES libtcmalloc_minimal.so.4 tcmalloc_minimal)
  find_library(WINMEM_MIMALLOC NAMES mimalloc)
  find_path(WINMEM_MIMALLOC_INCLUDE mimalloc.h)
  foreach(lib JEMALLOC TCMALLOC)
    if(WINMEM_${lib})
      target_compile_definitions(bench_heap_bench PRIVATE HEAP_BENCH_${lib}="${WINMEM_${lib}}")
    endif()
  endforeach()
  target_link_libraries(bench_heap_bench PRIVATE ${CMAKE_DL_LIBS})
  if(WINMEM_MIMALLOC AND WINMEM_MIMALLOC_INCLUDE)
    add_executable(heap_bench_mimalloc EXCLUDE_FROM_ALL ${CMAKE_SOURCE_DIR}/bench/heap_bench.c)
    target_compile_definitions(heap_bench_mimalloc PRIVATE HEAP_BENCH_MIMALLOC=1)
    target_include_directories(heap_bench_mimalloc PRIVATE ${WINMEM_MIMALLOC_INCLUDE})
    target_link_libraries(heap_bench_mimalloc PRIVATE winmem_internal ${WINMEM_MIMALLOC} ${CMAKE_DL_LIBS})
    add_dependencies(bench_heap_bench heap_bench_mimalloc)
  endif()
endif()

# What users and scripts rely on: exported names, the README's compile line,
# and the installed pkg-config file and CMake package.  Only for the build
# users get: a sanitized library does not link into a plain program.
if(NOT WINMEM_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME package/install COMMAND ${CMAKE_SOURCE_DIR}/tests/package/package.sh
           ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
endif()

# Real programs nobody here wrote (python3 with part of its own test suite,
# git, sqlite3, gcc) print under LD_PRELOAD=libwinmem-malloc.so what they
# print without it (tests/programs/programs.sh; scripts/deps.sh programs
# installs them, and make check calls it).  It preloads the winmem_malloc
# target's file, which the default build makes before ctest runs.  Not for a
# sanitized library, which cannot be preloaded into a program built without
# the sanitizer, nor for one built for another processor.
if(TARGET winmem_malloc AND NOT WINMEM_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME programs/preload COMMAND ${CMAKE_SOURCE_DIR}/tests/programs/programs.sh
           ${CMAKE_BINARY_DIR})
  set_tests_properties(programs/preload PROPERTIES TIMEOUT 600)
  # winmem run --leaks, --debug-heap and --stats on a program with a known leak.
  add_test(NAME programs/leaks COMMAND ${CMAKE_SOURCE_DIR}/tests/programs/leaks.sh ${CMAKE_BINARY_DIR})
  # The C and C++ allocation API's corners: aligned family, fork, thread exit, dlopen, new/delete.
  add_test(NAME programs/edge COMMAND ${CMAKE_SOURCE_DIR}/tests/programs/edge.sh ${CMAKE_BINARY_DIR})
endif()
