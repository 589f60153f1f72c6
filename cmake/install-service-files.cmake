# Runs at install time (cmake --install, cpack), included by the install(CODE) of packaging.cmake:
# installs the systemd unit and the config file where the prefix given *then* puts them (--prefix
# may differ from the configured one), with the unit's paths rewritten to match.
#
# In: CMAKE_INSTALL_PREFIX (install time), redis_sidecar_source_dir, redis_sidecar_binary_dir,
# redis_sidecar_bindir, redis_sidecar_sysconfdir, redis_sidecar_docdir (GNUInstallDirs values,
# relative to the prefix unless absolute) and redis_sidecar_unitdir (empty: automatic).

function(redis_sidecar_full_path out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

# A prefix of /usr (a distribution package) puts the config in /etc and the unit in
# /lib/systemd/system, as GNUInstallDirs and Debian do; any other prefix keeps both under it.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND redis_sidecar_sysconfdir STREQUAL "etc")
  set(redis_sidecar_sysconfdir "/etc")
endif()
if(redis_sidecar_unitdir STREQUAL "")
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(redis_sidecar_unitdir "/lib/systemd/system")
  else()
    set(redis_sidecar_unitdir "lib/systemd/system")
  endif()
endif()
redis_sidecar_full_path(bindir "${redis_sidecar_bindir}")
redis_sidecar_full_path(confdir "${redis_sidecar_sysconfdir}/redis-sidecar")
redis_sidecar_full_path(docdir "${redis_sidecar_docdir}")
redis_sidecar_full_path(unitdir "${redis_sidecar_unitdir}")

# The unit in the tree is written for a /usr install; its three paths follow this install.
file(READ "${redis_sidecar_source_dir}/systemd/redis-sidecar.service" unit)
string(REPLACE "/usr/bin/redis-sidecar" "${bindir}/redis-sidecar" unit "${unit}")
string(REPLACE "/etc/redis-sidecar/" "${confdir}/" unit "${unit}")
string(REPLACE "/usr/share/doc/redis-sidecar/" "${docdir}/" unit "${unit}")
# A directory of its own for each install, so that installs running at once (tests) do not mix.
string(RANDOM LENGTH 12 tag)
set(staging "${redis_sidecar_binary_dir}/install-staging/${tag}")
file(WRITE "${staging}/redis-sidecar.service" "${unit}")
file(INSTALL DESTINATION "${unitdir}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${staging}/redis-sidecar.service")
file(REMOVE_RECURSE "${staging}")
file(INSTALL DESTINATION "${confdir}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${redis_sidecar_source_dir}/conf/redis-sidecar.conf")
