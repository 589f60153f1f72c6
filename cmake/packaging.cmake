# cmake --install and the Debian package (cpack -G DEB, or the `package` target).
#
#   cmake --install build --prefix /usr    /usr/bin/redis-sidecar, /etc/redis-sidecar/redis-sidecar.conf,
#                                          /lib/systemd/system/redis-sidecar.service
#   cmake --install build --prefix /opt/x  the same under /opt/x: bin/, etc/redis-sidecar/, lib/systemd/system/
#   (cd build && cpack -G DEB)             redis-sidecar_<version>_<arch>.deb
#
# The unit's ExecStart and --config follow the prefix given at install time.

set(REDIS_SIDECAR_SYSTEMD_UNITDIR "" CACHE STRING
    "Directory for the systemd unit, absolute or relative to the prefix (empty: /lib/systemd/system for prefix /usr, else <prefix>/lib/systemd/system)")

install(FILES README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/redis-sidecar)
install(CODE "
  set(redis_sidecar_source_dir \"${PROJECT_SOURCE_DIR}\")
  set(redis_sidecar_binary_dir \"${PROJECT_BINARY_DIR}\")
  set(redis_sidecar_bindir \"${CMAKE_INSTALL_BINDIR}\")
  set(redis_sidecar_sysconfdir \"${CMAKE_INSTALL_SYSCONFDIR}\")
  set(redis_sidecar_docdir \"${CMAKE_INSTALL_DATAROOTDIR}/doc/redis-sidecar\")
  set(redis_sidecar_unitdir \"${REDIS_SIDECAR_SYSTEMD_UNITDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/install-service-files.cmake\")")

# --- Debian package -------------------------------------------------------------------------
set(REDIS_SIDECAR_DEB_MAINTAINER "redis-sidecar maintainers <redis-sidecar@example.org>" CACHE STRING
    "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME redis-sidecar)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "redis-sidecar")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Redis proxy beside the app that answers from a local store while Redis is down")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "\
Apps connect to the sidecar as if it were Redis. It forwards every command
to the real Redis over a few shared, pipelined connections and keeps
stateful clients on dedicated ones. When Redis goes away it answers the
apps' key-value commands from a local in-memory store, byte for byte as
Redis 7.0 would, journals what must survive, and replays it to Redis when
Redis is back.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${REDIS_SIDECAR_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps derives the library dependencies; adduser is for the maintainer scripts.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/deb/conffiles"
    "${PROJECT_SOURCE_DIR}/packaging/deb/postinst"
    "${PROJECT_SOURCE_DIR}/packaging/deb/prerm"
    "${PROJECT_SOURCE_DIR}/packaging/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
