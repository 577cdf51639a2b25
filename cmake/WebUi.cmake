# The simulator's web UI (web/) compiled into uvmodbus-simulator: web/*.html|js|css|svg and the chart
# library's dist files (uPlot, from npm: web/package-lock.json, fetched by scripts/setup.sh with
# `npm ci`) become ${CMAKE_BINARY_DIR}/web_assets.cc, regenerated when any of them changes.
set(UVMODBUS_WEB_DIR ${CMAKE_CURRENT_SOURCE_DIR}/web)
set(UVMODBUS_UPLOT_DIST ${UVMODBUS_WEB_DIR}/node_modules/uplot/dist)
# scripts/setup.sh runs `npm ci`; a checkout configured without it (a new worktree, a bare cmake
# call) gets the same step here, once, when npm is there.
if(NOT EXISTS ${UVMODBUS_UPLOT_DIST}/uPlot.iife.min.js)
  find_program(UVMODBUS_NPM npm)
  if(UVMODBUS_NPM)
    message(STATUS "web/node_modules is missing: npm ci in web/ (scripts/setup.sh does this too)")
    execute_process(COMMAND ${UVMODBUS_NPM} ci --no-audit --no-fund WORKING_DIRECTORY ${UVMODBUS_WEB_DIR})
  endif()
endif()
if(NOT EXISTS ${UVMODBUS_UPLOT_DIST}/uPlot.iife.min.js)
  message(FATAL_ERROR "web/node_modules/uplot is missing: the simulator's web UI needs it. "
                      "Run `bash scripts/setup.sh server` (or `npm ci` in web/) first.")
endif()
file(GLOB UVMODBUS_WEB_FILES CONFIGURE_DEPENDS ${UVMODBUS_WEB_DIR}/*.html ${UVMODBUS_WEB_DIR}/*.js ${UVMODBUS_WEB_DIR}/*.css
     ${UVMODBUS_WEB_DIR}/*.svg)
set(UVMODBUS_WEB_ASSETS "")
set(UVMODBUS_WEB_DEPENDS "")
foreach(file IN LISTS UVMODBUS_WEB_FILES)
  get_filename_component(name ${file} NAME)
  list(APPEND UVMODBUS_WEB_ASSETS "${name}=${file}")
  list(APPEND UVMODBUS_WEB_DEPENDS ${file})
endforeach()
foreach(name uPlot.iife.min.js uPlot.min.css)
  list(APPEND UVMODBUS_WEB_ASSETS "uplot/${name}=${UVMODBUS_UPLOT_DIST}/${name}")
  list(APPEND UVMODBUS_WEB_DEPENDS ${UVMODBUS_UPLOT_DIST}/${name})
endforeach()
string(REPLACE ";" "|" UVMODBUS_WEB_ASSETS_ARG "${UVMODBUS_WEB_ASSETS}")  # a ";" would split the argument
add_custom_command(
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/web_assets.cc
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${CMAKE_CURRENT_BINARY_DIR}/web_assets.cc "-DASSETS=${UVMODBUS_WEB_ASSETS_ARG}"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_web_assets.cmake
  DEPENDS ${UVMODBUS_WEB_DEPENDS} ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_web_assets.cmake ${UVMODBUS_WEB_DIR}/package-lock.json
  COMMENT "Embedding the simulator's web UI (web/)"
  VERBATIM)
target_sources(uvmodbus-simulator PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/web_assets.cc)
