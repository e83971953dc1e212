# moto's AWS emulator (PyPI moto[server]) for the AWS provider and S3 backend tests
# (issues 4 and 6), installed in a virtualenv of its own and started on 127.0.0.1.
# Exports:
#   TERRANE_MOTO_SERVER   path of the moto_server executable (tests may start private ones)
#   TERRANE_MOTO_ENDPOINT http://127.0.0.1:PORT of the shared server started here
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION: dummy credentials
# Sourced by scripts/test.sh.
moto_venv="$TERRANE_TEST_TOOLS/moto-venv"
if [ ! -x "$moto_venv/bin/moto_server" ]; then
  python3 -m venv "$moto_venv"
  "$moto_venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.1.*'
fi
export TERRANE_MOTO_SERVER="$moto_venv/bin/moto_server"

moto_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$TERRANE_MOTO_SERVER" -H 127.0.0.1 -p "$moto_port" >"$TERRANE_TEST_TOOLS/moto-$moto_port.log" 2>&1 &
moto_pid=$!
on_exit "kill $moto_pid"
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$moto_port/moto-api/data.json', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$moto_pid" 2>/dev/null || { cat "$TERRANE_TEST_TOOLS/moto-$moto_port.log" >&2; return 1; }
  sleep 0.2
done
export TERRANE_MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
echo "moto server at $TERRANE_MOTO_ENDPOINT" >&2
