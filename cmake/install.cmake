# Installs headers, libraries, a CMake package (find_package(uvmodbus)) and a pkg-config file.
include(CMakePackageConfigHelpers)
foreach(dir reactor framers datastore protocols)
  install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/uvmodbus/${dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "detail" EXCLUDE
          PATTERN "lua" EXCLUDE)  # Lua actions are linked into uvmodbus-simulator only
endforeach()
install(TARGETS uvreactor uvmodbus_framers uvmodbus_datastore uvmodbus EXPORT uvmodbusTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/uvmodbus)
install(TARGETS uvmodbus-server uvmodbus-simulator RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT uvmodbusTargets NAMESPACE uvmodbus:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/uvmodbus)
configure_package_config_file(cmake/uvmodbusConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/uvmodbusConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/uvmodbus)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/uvmodbusConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/uvmodbusConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/uvmodbusConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/uvmodbus)
# The .pc file finds its prefix relative to itself, so an installed tree can be moved.
file(RELATIVE_PATH UVMODBUS_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
configure_file(cmake/uvmodbus.pc.in ${CMAKE_CURRENT_BINARY_DIR}/uvmodbus.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/uvmodbus.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
