#!/usr/bin/env python3
"""The ABI check catches what it must, and accepts what a minor release adds.

Builds copies of libfastflow.so in a scratch folder from the build's own
objects (relinked with the build's version script, one object recompiled
where needed), then runs scripts/check-abi.sh on each copy against a
baseline dumped from the unmodified build (so the test checks the checker,
whatever the committed baseline in abi/ says):

  unmodified relink         must pass
  a removed function        must fail   (ff_metric_pro left out of the map)
  a changed signature       must fail   (ff_version_number returns uint64_t)
  a renumbered enum value   must fail   (FF_PIXEL_RGB8 = 2 becomes 5)
  an added function         must pass   (a new FASTFLOW_0.2 node)
  an added enum value       must pass   (FF_PIXEL_BGR8 + 1 appended)

usage: check_abi_breaks.py SOURCE_DIR BUILD_DIR
Exit 77 (skip) without abidw/abidiff, except under CI=true (then 1).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

SRC, BUILD = (os.path.abspath(p) for p in sys.argv[1:3])
CHECK = os.path.join(SRC, "scripts", "check-abi.sh")
DUMP = os.path.join(SRC, "scripts", "abi-dump.sh")
HEADER = os.path.join(SRC, "include", "fastflow.h")

if not (shutil.which("abidw") and shutil.which("abidiff")):
    print("abidw/abidiff not found (Debian: abigail-tools); skipping the ABI check test")
    sys.exit(1 if os.environ.get("CI") == "true" else 77)

failures = []


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


def must(cmd, **kw):
    r = run(cmd, **kw)
    if r.returncode != 0:
        print("command failed:", " ".join(cmd))
        print(r.stdout)
        sys.exit(1)
    return r.stdout


def replace_once(text, old, new, what):
    """A deliberate break must really change the text it targets."""
    if text.count(old) != 1:
        print("cannot make %s: %r occurs %d times" % (what, old, text.count(old)))
        sys.exit(1)
    return text.replace(old, new)


# The objects of the internal static library (a thin archive: ar t lists
# their paths) and how the build compiled each of them.
objects = must(["ar", "t", "lib/libfastflow_impl.a"], cwd=BUILD).split()
objects = [os.path.join(BUILD, o) for o in objects]
commands = json.load(open(os.path.join(BUILD, "compile_commands.json")))
with open(os.path.join(SRC, "lib", "fastflow.map")) as f:
    MAP = f.read()
with open(HEADER) as f:
    HEADER_TEXT = f.read()
cc = os.environ.get("CC", "cc")

scratch = tempfile.mkdtemp(prefix="ff-abi-breaks-")


def recompile(source_rel, edits, header_text, out):
    """Compiles lib/<source_rel> as the build did, with `edits` applied to a
    copy of the source and `header_text` as include/fastflow.h."""
    entry = next(c for c in commands if c["file"].endswith("lib/" + source_rel) and "fastflow_impl" in c["output"])
    inc = os.path.join(out + ".inc")
    os.makedirs(inc, exist_ok=True)
    with open(os.path.join(inc, "fastflow.h"), "w") as f:
        f.write(header_text)
    with open(os.path.join(SRC, "lib", source_rel)) as f:
        text = f.read()
    for old, new in edits:
        text = replace_once(text, old, new, "the edit of " + source_rel)
    src_copy = out + ".c"
    with open(src_copy, "w") as f:
        f.write(text)
    args = shlex.split(entry["command"])
    # drop output, dependency-file and source arguments; keep the flags
    flags, skip = [], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MQ", "-MF", "-c"):
            skip = True
            continue
        if a in ("-MD",):
            continue
        flags.append(a)
    must([args[0], "-I" + inc] + flags + ["-c", src_copy, "-o", out], cwd=entry["directory"])
    return out


def make_copy(name, map_text=MAP, replace=None, extra=(), types_header=None):
    """A build folder holding lib/libfastflow.so and lib/libfastflow_abi_types.so."""
    d = os.path.join(scratch, name)
    os.makedirs(os.path.join(d, "lib"))
    map_path = os.path.join(d, "fastflow.map")
    with open(map_path, "w") as f:
        f.write(map_text)
    objs = [replace.get(o, o) if replace else o for o in objects] + list(extra)
    # Undefined references (oneDNN, libpng, ...) may stay: abidw reads the
    # library, nobody loads it.
    must([cc, "-shared", "-o", os.path.join(d, "lib", "libfastflow.so"), "-Wl,-soname,libfastflow.so.0",
          "-Wl,--version-script," + map_path] + objs)
    types_so = os.path.join(d, "lib", "libfastflow_abi_types.so")
    if types_header is None:
        shutil.copy(os.path.join(BUILD, "lib", "libfastflow_abi_types.so"), types_so)
    else:
        inc = os.path.join(d, "include")
        os.makedirs(inc)
        with open(os.path.join(inc, "fastflow.h"), "w") as f:
            f.write(types_header)
        must([cc, "-shared", "-fPIC", "-g", "-fno-eliminate-unused-debug-types", "-I" + inc, "-Wl,-soname,libfastflow_abi_types.so",
              os.path.join(SRC, "lib", "core", "abi_types.c"), "-o", types_so])
    return d


def expect(name, build_dir, should_pass, must_mention):
    r = run(["bash", CHECK, build_dir, baseline])
    passed = r.returncode == 0
    ok = passed == should_pass and (r.returncode in (0, 1)) and must_mention in r.stdout
    print("%s %-28s check-abi.sh exit %d (expected %s; mentions %r: %s)"
          % ("ok  " if ok else "FAIL", name, r.returncode, "pass" if should_pass else "fail",
             must_mention, must_mention in r.stdout))
    if not ok:
        print(r.stdout)
        failures.append(name)


try:
    # Baseline from the unmodified build.
    baseline = os.path.join(scratch, "baseline")
    must(["bash", DUMP, BUILD, baseline])

    expect("unmodified relink", make_copy("unmodified"), True, "ABI compatible")

    removed_map = replace_once(MAP, "    ff_metric_pro;\n", "", "a removed function")
    expect("removed function", make_copy("removed", map_text=removed_map), False, "ff_metric_pro")

    version_obj = next(o for o in objects if o.endswith("core_version.c.o"))
    changed_header = replace_once(HEADER_TEXT, "FF_API uint32_t ff_version_number(void);",
                                  "FF_API uint64_t ff_version_number(void);", "a changed signature")
    changed_obj = recompile("core/version.c", [("uint32_t ff_version_number(void)", "uint64_t ff_version_number(void)")],
                            changed_header, os.path.join(scratch, "version_changed.o"))
    expect("changed signature", make_copy("changed", replace={version_obj: changed_obj}), False,
           "ff_version_number")

    renumbered = replace_once(HEADER_TEXT, "FF_PIXEL_RGB8 = 2,", "FF_PIXEL_RGB8 = 5,", "a renumbered enum value")
    expect("renumbered enum value", make_copy("renumbered", types_header=renumbered), False,
           "FF_PIXEL_RGB8' from value '2' to '5'")

    added_src = os.path.join(scratch, "added.c")
    with open(added_src, "w") as f:
        f.write('#include "fastflow.h"\nFF_API int32_t ff_abi_test_added(int32_t x);\n'
                'int32_t ff_abi_test_added(int32_t x) { return x + 1; }\n')
    added_obj = os.path.join(scratch, "added.o")
    must([cc, "-c", "-fPIC", "-g", "-fvisibility=hidden", "-I" + os.path.join(SRC, "include"), added_src, "-o", added_obj])
    added_map = MAP + "\nFASTFLOW_0.2 {\n  global:\n    ff_abi_test_added;\n} FASTFLOW_0.1;\n"
    expect("added function", make_copy("added", map_text=added_map, extra=[added_obj]), True, "ff_abi_test_added")

    appended = re.sub(r"FF_PIXEL_BGR8 = 4\b", "FF_PIXEL_BGR8 = 4,\n    FF_PIXEL_ABI_TEST = 5", HEADER_TEXT, count=1)
    if appended == HEADER_TEXT:
        print("cannot append an enum value")
        sys.exit(1)
    expect("added enum value", make_copy("appended", types_header=appended), True, "ABI compatible")
finally:
    shutil.rmtree(scratch, ignore_errors=True)

n = 6
print("%d passed, %d failed" % (n - len(failures), len(failures)))
sys.exit(1 if failures else 0)
