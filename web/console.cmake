# The web console (web/): a Vite + Preact single-page app, built into BUILD_DIR/ui beside the
# accord binary, which serves it at /ui/ (src/ui.c).  Needs Node.js 18 or newer and npm; the exact
# package versions are in web/package-lock.json (`npm ci`).  Without Node the C build goes on
# without the console (its browser test then skips, or fails under CI); with a Node that is too
# old the configure step stops and says which one it found.
option(ACCORD_CONSOLE "Build the web console (needs Node.js >= 18 and npm)" ON)
set(ACCORD_WEB_DIR ${CMAKE_SOURCE_DIR}/web)
set(ACCORD_UI_OUT ${CMAKE_BINARY_DIR}/ui)
if(ACCORD_CONSOLE)
  find_program(ACCORD_NODE NAMES node nodejs)
  find_program(ACCORD_NPM NAMES npm)
  if(NOT ACCORD_NODE OR NOT ACCORD_NPM)
    message(WARNING "web console: not built: Node.js (found: ${ACCORD_NODE}) and npm (found: "
                    "${ACCORD_NPM}) are both needed; on Debian 12: apt-get install nodejs npm")
  else()
    execute_process(COMMAND ${ACCORD_NODE} --version OUTPUT_VARIABLE ACCORD_NODE_VERSION
                    OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE node_rc)
    if(NOT node_rc EQUAL 0 OR NOT ACCORD_NODE_VERSION MATCHES "^v([0-9]+)\\.")
      message(FATAL_ERROR "web console: ${ACCORD_NODE} --version failed (${ACCORD_NODE_VERSION})")
    endif()
    if(CMAKE_MATCH_1 LESS 18)
      message(FATAL_ERROR "web console: ${ACCORD_NODE} is Node.js ${ACCORD_NODE_VERSION}, too old: "
                          "the console's build (Vite 5) needs Node.js 18 or newer (Debian 12's "
                          "nodejs package is 18.19).  Install a newer one, or configure with "
                          "-DACCORD_CONSOLE=OFF to build accord without its console.")
    endif()
    message(STATUS "web console: Node.js ${ACCORD_NODE_VERSION} (${ACCORD_NODE}), npm ${ACCORD_NPM}")
    file(GLOB_RECURSE ACCORD_WEB_SRC CONFIGURE_DEPENDS ${ACCORD_WEB_DIR}/src/* ${ACCORD_WEB_DIR}/public/*)
    # One step (web/scripts/build.sh): npm ci when the lock file changed, vite build, the size
    # budget.  The stamp is written only when the console was built, so a build that had to leave
    # it out (npm registry unreachable) tries again next time.
    set(ACCORD_UI_STAMP ${CMAKE_BINARY_DIR}/console.stamp)
    add_custom_command(
      OUTPUT ${ACCORD_UI_STAMP}
      COMMAND bash scripts/build.sh ${ACCORD_NODE} ${ACCORD_NPM} ${ACCORD_UI_OUT} ${ACCORD_UI_STAMP}
      WORKING_DIRECTORY ${ACCORD_WEB_DIR}
      DEPENDS ${ACCORD_WEB_DIR}/package.json ${ACCORD_WEB_DIR}/package-lock.json ${ACCORD_WEB_SRC}
              ${ACCORD_WEB_DIR}/index.html ${ACCORD_WEB_DIR}/vite.config.js
              ${ACCORD_WEB_DIR}/scripts/size.mjs ${ACCORD_WEB_DIR}/scripts/build.sh
      COMMENT "web console: build into ${ACCORD_UI_OUT}"
      VERBATIM)
    add_custom_target(console ALL DEPENDS ${ACCORD_UI_STAMP})
    install(DIRECTORY ${ACCORD_UI_OUT}/ DESTINATION share/accord/ui)
  endif()
endif()
