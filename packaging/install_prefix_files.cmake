# Installs the files whose place or contents depend on the install prefix,
# which is only known at install time (cmake --install --prefix): the
# configuration, in /etc/sublink when the prefix is /usr (FHS) and in
# PREFIX/etc/sublink otherwise, and the systemd unit naming the installed
# sublinkd and that configuration. DESTDIR applies as to every install rule.
# Run by install(SCRIPT); the SUBLINK_* paths are set by install(CODE).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(SUBLINK_ETC_DIR /etc/sublink)
else()
  set(SUBLINK_ETC_DIR "${CMAKE_INSTALL_PREFIX}/etc/sublink")
endif()
set(SUBLINK_SBIN_DIR "${CMAKE_INSTALL_PREFIX}/${SUBLINK_SBINDIR}")
file(INSTALL DESTINATION "${SUBLINK_ETC_DIR}" TYPE FILE RENAME sublink.json FILES "${SUBLINK_SAMPLE_CONFIG}")

# One unit per prefix, so installs to two prefixes at once do not race.
string(MD5 prefix_id "${CMAKE_INSTALL_PREFIX}")
set(unit "${SUBLINK_UNIT_BUILD_DIR}/${prefix_id}/sublinkd.service")
configure_file("${SUBLINK_UNIT_TEMPLATE}" "${unit}" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE FILES "${unit}")
