#!/usr/bin/env bash
# Fails when an include points against the dependency direction:
#   core <- kernels <- inference <- fault <- app; imaging, downlink are leaves;
#   config fills module configs; decision (classifier + policy) never uses fault or app;
#   ground never includes app.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
fail=0
check() {  # check <folder> <regex of forbidden include prefixes>
  local dir=$1 forbidden=$2
  [ -d "$dir" ] || return 0
  local hits
  hits=$(grep -rnE "#include \"($forbidden)/" "$dir" --include='*.h' --include='*.cc' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering violation in $dir/ (may not include $forbidden):"
    echo "$hits"
    fail=1
  fi
}
check core      'kernels|inference|imaging|downlink|config|fault|app|ground'
check kernels   'inference|imaging|downlink|config|fault|app|ground'
check inference 'imaging|downlink|config|fault|app|ground'
check imaging   'kernels|inference|downlink|config|fault|app|ground'
check downlink  'kernels|inference|imaging|config|fault|app|ground'
check fault     'imaging|downlink|config|app|ground'
check config    'decision|app|ground'
check decision  'fault|app|ground'
check ground    'app'
# kernels and inference may use only the standard library and FlatBuffers.
thirdparty=$(grep -rnE '#include <(opencv|turbojpeg|yaml-cpp|spdlog|zlib|openssl|CLI|nlohmann)' kernels inference 2>/dev/null)
if [ -n "$thirdparty" ]; then
  echo "kernels/ and inference/ may depend only on the standard library and FlatBuffers:"
  echo "$thirdparty"
  fail=1
fi
[ $fail -eq 0 ] && echo "layering ok"
exit $fail
