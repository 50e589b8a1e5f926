# make install: headers, static and shared library, libwinmem-malloc.so, winmem.pc for pkg-config
# and a CMake package (find_package(winmem) gives winmem::winmem and
# winmem::winmem_static).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/winmem
        FILES_MATCHING PATTERN "*.h")
install(TARGETS winmem_static winmem_shared EXPORT winmemTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/winmem)
install(TARGETS winmem_tool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS winmem_malloc LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# `winmem run` finds libwinmem-malloc.so beside itself (the build tree) or here.
target_compile_definitions(winmem_tool PRIVATE
  WINMEM_BIN_TO_LIB="${CMAKE_INSTALL_BINDIR}:${CMAKE_INSTALL_LIBDIR}")
install(EXPORT winmemTargets NAMESPACE winmem:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/winmem)

file(WRITE ${CMAKE_BINARY_DIR}/winmemConfig.cmake.in
"@PACKAGE_INIT@\ninclude(CMakeFindDependencyMacro)\nfind_dependency(Threads)\ninclude(\"\${CMAKE_CURRENT_LIST_DIR}/winmemTargets.cmake\")\nif(NOT TARGET winmem::winmem)\n  add_library(winmem::winmem ALIAS winmem::winmem_shared)\nendif()\n")
configure_package_config_file(${CMAKE_BINARY_DIR}/winmemConfig.cmake.in
  ${CMAKE_BINARY_DIR}/winmemConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/winmem)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/winmemConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/winmemConfig.cmake ${CMAKE_BINARY_DIR}/winmemConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/winmem)

# Relocatable: the prefix is found from where the .pc file lies, so
# `make install PREFIX=...` and `cmake --install --prefix` both work.
file(RELATIVE_PATH WINMEM_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
file(WRITE ${CMAKE_BINARY_DIR}/winmem.pc
"prefix=\${pcfiledir}/${WINMEM_PC_UP}\nlibdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}\nincludedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}/winmem\n\nName: winmem\nDescription: The Win32 memory manager for POSIX systems\nVersion: ${PROJECT_VERSION}\nLibs: -L\${libdir} -lwinmem\nLibs.private: -lpthread\nCflags: -I\${includedir}\n")
install(FILES ${CMAKE_BINARY_DIR}/winmem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
