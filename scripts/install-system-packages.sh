#!/usr/bin/env bash
# Build- and test-time system packages from Debian. Installs them when running as root;
# otherwise says what is missing and how to install it.
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
# python-ldap builds against OpenLDAP's client library; the LDAP tests start Debian's slapd.
dpkg -s libldap2-dev >/dev/null 2>&1 || packages+=(libldap2-dev)
dpkg -s libsasl2-dev >/dev/null 2>&1 || packages+=(libsasl2-dev)
[ -x /usr/sbin/slapd ] || packages+=(slapd)
command -v ldapadd >/dev/null 2>&1 || packages+=(ldap-utils)
# The worker tests start their own redis-server on a free loopback port (and stop it under a
# busy worker).
[ -x /usr/bin/redis-server ] || packages+=(redis-server)

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${packages[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${packages[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
# slapd's package would configure and start a system directory: preseed it to skip that (the
# tests start their own slapd on a free loopback port).
echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" </dev/null
# Debian's slapd may have been started as a service by the install: the project never uses it.
if command -v service >/dev/null 2>&1; then service slapd stop >/dev/null 2>&1 || true; fi
