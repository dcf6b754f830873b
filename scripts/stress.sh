# Sourced by scripts/test for `scripts/test --stress`: the tests that inject faults or race real Airflow
# processes, STRESS_ROUNDS times on each Airflow version, while a CPU hog (one busy loop per core, started
# here and always killed) keeps every core busy; then how many times each test ran and passed.
#   scripts/test --stress                                     # 5 rounds of STRESS_TESTS, both versions
#   STRESS_ROUNDS=2 AIRFLOW_VERSIONS=3.3.2 scripts/test --stress -k faults   # extra arguments go to pytest
#   STRESS_TESTS="tests/reliability/test_double_charges.py" scripts/test --stress
STRESS_TESTS_DEFAULT="tests/reliability tests/deployment tests/events/test_event_sensor_faults.py"

hog_pids=()

start_cpu_hog() {
  local cores
  cores=$(nproc)
  for _ in $(seq "$cores"); do
    bash -c 'while :; do :; done' &
    hog_pids+=("$!")
  done
  echo "==> CPU hog: $cores busy loops (pids ${hog_pids[*]})"
}

stop_cpu_hog() {
  if [ "${#hog_pids[@]}" -gt 0 ]; then
    kill "${hog_pids[@]}" 2>/dev/null || true
    wait "${hog_pids[@]}" 2>/dev/null || true
    echo "==> CPU hog stopped"
    hog_pids=()
  fi
}

# run_stress VERSIONS [pytest arguments...]: exits with pytest's last failing status, or 0.
run_stress() {
  local versions=$1 rounds=${STRESS_ROUNDS:-5} results status=0 code version venv round started
  shift
  local -a tests
  read -r -a tests <<< "${STRESS_TESTS:-$STRESS_TESTS_DEFAULT}"
  results=$(mktemp -d)
  trap stop_cpu_hog EXIT
  trap 'exit 130' INT TERM
  for version in $versions; do
    venv=$(airflow_env "$version")
    start_cpu_hog
    for round in $(seq "$rounds"); do
      echo "==> stress round $round/$rounds on Airflow $version: ${tests[*]}"
      started=$SECONDS
      code=0
      "$venv/bin/python" -m pytest "${tests[@]}" -q -p no:cacheprovider \
        --junitxml="$results/$version-round$round.xml" "$@" || code=$?
      [ "$code" -eq 0 ] || status=$code
      echo "==> stress round $round/$rounds on Airflow $version: $((SECONDS - started)) s, exit $code"
    done
    stop_cpu_hog
  done
  "$venv/bin/python" "$ROOT/scripts/stress_report.py" "$results"/*.xml
  rm -rf "$results"
  exit "$status"
}
