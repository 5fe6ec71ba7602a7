#!/bin/sh
# One night of medgen-etl: an incremental build of the concepts file, then what changed
# since the night before. cron, the systemd service and the Airflow DAG in this folder run
# exactly these commands.
#
# Settings (environment):
#   NCBI_EMAIL            required: NCBI asks every client for a contact address
#   NCBI_API_KEY          optional: 10 requests/s instead of 3
#   MEDGEN_ETL            the command [medgen-etl]
#   MEDGEN_ETL_OUT        the output directory [output]
#   MEDGEN_ETL_CONCEPTS   the concepts file, one CUI, UID or name per line [concepts.txt]
#   MEDGEN_ETL_CONFIG     a config file (optional)
#
# Exit status, for the scheduler:
#   0   published; nothing changed since the night before
#   1   published; something changed: the diff is on stdout (and in OUT/last-diff.json)
#   65  published without some concepts (their reasons are in the manifest): look at it
#   75  NCBI stayed unavailable, or another run holds the output directory: run again later
#   other  failed; nothing was published, OUT/current is as it was (the message says why)
set -u
: "${NCBI_EMAIL:?set NCBI_EMAIL to a contact address}"
MEDGEN_ETL=${MEDGEN_ETL:-medgen-etl}
OUT=${MEDGEN_ETL_OUT:-output}
CONCEPTS=${MEDGEN_ETL_CONCEPTS:-concepts.txt}
set -- --concepts-file "$CONCEPTS" --out "$OUT"
if [ -n "${MEDGEN_ETL_CONFIG:-}" ]; then
    set -- "$@" --config "$MEDGEN_ETL_CONFIG"
fi

"$MEDGEN_ETL" --log-format json build --incremental "$@"
built=$?
case $built in
    0 | 65) ;;         # published (65: without some concepts)
    *) exit "$built" ;; # 75: later; anything else: a failure to look at
esac

"$MEDGEN_ETL" diff --out "$OUT" --json >"$OUT/last-diff.json"
changed=$?
case $changed in
    0 | 1) "$MEDGEN_ETL" diff --out "$OUT" ;;
    *) exit "$changed" ;;
esac
if [ "$built" -eq 65 ]; then
    exit 65
fi
exit "$changed"
