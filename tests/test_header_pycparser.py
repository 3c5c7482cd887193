#!/usr/bin/env python3
"""A binding generator can read include/fastflow.h.

Preprocesses the header with the C compiler (FF_API defined empty, as the
header invites binding generators to do; tiny stand-ins for <stddef.h> and
<stdint.h> so that pycparser sees the fixed-width names as typedefs instead
of a libc's extensions), parses it with pycparser and checks that every
function and type can be represented by a plain FFI:

  - no unions, varargs, callbacks (function pointers), bit-fields, arrays
    in signatures, or structs passed or returned by value;
  - every struct is opaque (declared, never defined);
  - every parameter is a fixed-width integer, float, double, size_t,
    char *, void *, a pointer to one of those, a pointer to an opaque
    struct, or a pointer to such a pointer (constructor outputs);
  - no plain int/long/unsigned, and no enum-typed parameters (enums are
    passed as int32_t);
  - sizes in one order (docs/api-conventions.md): a parameter named
    *height* comes after its *width* (in_width before in_height, width_out
    before height_out), and batch / channels / num_images come before the
    widths and heights of the same direction (inputs, or *_out outputs).

Then it checks the Python binding's hand-written ctypes table
(python/fastflow/_lib.py PROTOTYPES) against the parsed header: the same
functions, each with exactly the C types the header declares, and every
enumerator of the header with the same value as the binding's constant.

Usage: test_header_pycparser.py [HEADER] [CC]. Exit 77 (skip) without
pycparser, except under CI=true.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

try:
    from pycparser import c_ast, c_parser
except ImportError:
    print("pycparser is not installed (Debian: python3-pycparser)")
    sys.exit(1 if os.environ.get("CI") == "true" else 77)

FIXED = ["int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t"]
SCALARS = set(FIXED) | {"size_t", "float", "double"}
# typedefs the fake headers declare (a typedef name must not reach the
# checks as its underlying plain C type)
FAKE_STDDEF = "typedef unsigned long size_t;\n#define NULL ((void *)0)\n"
FAKE_STDINT = "".join("typedef int %s;\n" % t for t in FIXED)  # the base type does not matter here

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def preprocess(header, cc):
    inc = tempfile.mkdtemp(prefix="ff-pycparser-")
    try:
        with open(os.path.join(inc, "stddef.h"), "w") as f:
            f.write(FAKE_STDDEF)
        with open(os.path.join(inc, "stdint.h"), "w") as f:
            f.write(FAKE_STDINT)
        cmd = cc + ["-E", "-P", "-nostdinc", "-I", inc, "-DFF_API=", "-D__attribute__(x)=", "-x", "c", header]
        return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    finally:
        shutil.rmtree(inc)


class Header:
    """Functions, typedefs, structs and enums of the parsed header."""

    def __init__(self, ast):
        self.typedefs = {}   # name -> type node
        self.functions = {}  # name -> FuncDecl
        self.structs = {}    # name -> defined?
        self.enums = {}
        for ext in ast.ext:
            if isinstance(ext, c_ast.Typedef):
                self.typedefs[ext.name] = ext.type
            elif isinstance(ext, c_ast.Decl) and isinstance(ext.type, c_ast.FuncDecl):
                self.functions[ext.name] = ext.type
            elif isinstance(ext, c_ast.Decl) and isinstance(ext.type, c_ast.Enum):
                self.enums[ext.type.name] = ext.type
            elif isinstance(ext, c_ast.Decl) and isinstance(ext.type, c_ast.Struct):
                self.structs[ext.type.name] = ext.type.decls is not None
            else:
                fail("unexpected top-level declaration: %s" % ext.__class__.__name__)
        for name, t in self.typedefs.items():
            if isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Struct):
                self.structs.setdefault(t.type.name, t.type.decls is not None)
                if t.type.decls is not None:
                    self.structs[t.type.name] = True

    def is_struct(self, name):
        t = self.typedefs.get(name)
        return isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Struct)

    def is_opaque(self, name):
        t = self.typedefs.get(name)
        return (isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Struct)
                and not self.structs.get(t.type.name, False))


def forbidden_nodes(ast):
    """Unions, varargs, bit-fields and function pointers anywhere."""

    class V(c_ast.NodeVisitor):
        def visit_Union(self, node):
            fail("union %s" % node.name)

        def visit_EllipsisParam(self, node):
            fail("varargs at %s" % node.coord)

        def visit_Decl(self, node):
            if node.bitsize is not None:
                fail("bit-field %s" % node.name)
            self.generic_visit(node)

        def visit_PtrDecl(self, node):
            if isinstance(node.type, c_ast.FuncDecl):
                fail("function pointer (callback) at %s" % node.coord)
            self.generic_visit(node)

        def visit_ArrayDecl(self, node):
            fail("array type in a declaration at %s" % node.coord)

    V().visit(ast)


def describe(h, node):
    """A canonical spelling of a type: 'int32_t', 'const char *', 'ff_flow **', ...

    Returns None (after reporting) for something a plain FFI cannot take."""
    if isinstance(node, c_ast.PtrDecl):
        inner = describe(h, node.type)
        return None if inner is None else inner + " *"
    if isinstance(node, c_ast.TypeDecl):
        quals = "const " if "const" in node.quals else ""
        t = node.type
        if isinstance(t, c_ast.IdentifierType):
            return quals + " ".join(t.names)
        if isinstance(t, c_ast.Struct):
            return quals + "struct " + (t.name or "?")
        if isinstance(t, c_ast.Enum):
            return quals + "enum " + (t.name or "?")
    fail("unrepresentable type node %s" % node.__class__.__name__)
    return None


def check_type(h, fname, what, node, is_return):
    spelled = describe(h, node)
    if spelled is None:
        return None
    base = spelled.replace("const ", "").rstrip(" *")
    depth = spelled.count("*")
    if base.startswith("enum "):
        fail("%s: %s has enum type %s (pass int32_t)" % (fname, what, spelled))
    elif base.startswith("struct "):
        fail("%s: %s uses a struct tag directly: %s" % (fname, what, spelled))
    elif base in ("int", "long", "unsigned", "short", "unsigned int", "long long", "unsigned long", "bool"):
        fail("%s: %s has a plain C integer type %s (use fixed width)" % (fname, what, spelled))
    elif h.is_struct(base) and depth == 0:
        fail("%s: %s passes struct %s by value" % (fname, what, base))
    elif h.is_opaque(base):
        if depth > 2 or (depth == 2 and is_return):
            fail("%s: %s: %s" % (fname, what, spelled))
    elif base == "ff_status":
        if depth:
            fail("%s: %s is a pointer to ff_status" % (fname, what))
    elif base == "char":
        if depth != 1:
            fail("%s: %s: %s (only char * strings)" % (fname, what, spelled))
    elif base == "void":
        if depth == 0 and not is_return:
            fail("%s: %s is void" % (fname, what))
        if depth > 1:
            fail("%s: %s: %s" % (fname, what, spelled))
    elif base in SCALARS:
        if depth > 1:
            fail("%s: %s: %s (pointer to pointer to a scalar)" % (fname, what, spelled))
    elif base in h.typedefs:
        fail("%s: %s uses typedef %s, which is neither ff_status nor an opaque handle" % (fname, what, base))
    else:
        fail("%s: %s has type %s" % (fname, what, spelled))
    return spelled


def check_header(h):
    # every typedef: ff_status as int32_t, or an opaque struct
    for name, t in h.typedefs.items():
        if name in SCALARS or name == "size_t":
            continue
        if name == "ff_status":
            if describe(h, t) != "int32_t":
                fail("ff_status is %s, expected int32_t" % describe(h, t))
        elif not h.is_opaque(name):
            fail("typedef %s is not an opaque struct" % name)
    for tag, defined in h.structs.items():
        if defined:
            fail("struct %s is defined in the public header (handles must stay opaque)" % tag)
    signatures = {}
    for fname, fd in h.functions.items():
        if not fname.startswith("ff_"):
            fail("function %s does not start with ff_" % fname)
        ret = check_type(h, fname, "the return type", fd.type, True)
        params = []
        plist = fd.args.params if fd.args else []
        if len(plist) == 1 and describe(h, plist[0].type) == "void":
            plist = []  # f(void)
        elif not plist:
            fail("%s: declared without a prototype (write (void))" % fname)
        for i, p in enumerate(plist):
            if isinstance(p, c_ast.EllipsisParam):
                continue  # already reported
            params.append(check_type(h, fname, "parameter %d (%s)" % (i + 1, getattr(p, "name", "?")),
                                     p.type, False))
        check_size_order(fname, [getattr(p, "name", None) or "" for p in plist])
        signatures[fname] = (ret, params)
    return signatures


def size_kind(name):
    n = name.lower()
    if "width" in n:
        return "width"
    if "height" in n:
        return "height"
    if "batch" in n or "channels" in n or n == "num_images":
        return "outer"
    return None


def check_size_order(fname, names):
    """Width before height, batch and channels before both (per direction)."""
    for i, name in enumerate(names):
        kind = size_kind(name)
        if kind == "height":
            partner = name.lower().replace("height", "width")
            j = next((k for k, other in enumerate(names) if other.lower() == partner), None)
            if j is None:
                j = next((k for k, other in enumerate(names) if size_kind(other) == "width"), None)
            if j is not None and j > i:
                fail("%s: parameter %s puts a height before its width %s" % (fname, name, names[j]))
        elif kind == "outer":
            out = name.endswith("_out")
            for k in range(i):
                if size_kind(names[k]) in ("width", "height") and names[k].endswith("_out") == out:
                    fail("%s: %s comes after %s (batch and channels come before width and height)"
                         % (fname, name, names[k]))
                    break


def expected_ctype(spelled, _lib):
    """The ctypes type a header spelling must be declared as (const is
    invisible to ctypes; size_t and uint64_t are one type on LP64, which is
    why types are compared by identity rather than by name)."""
    import ctypes
    simple = {
        "int8_t": ctypes.c_int8, "int16_t": ctypes.c_int16, "int32_t": ctypes.c_int32,
        "int64_t": ctypes.c_int64, "uint8_t": ctypes.c_uint8, "uint16_t": ctypes.c_uint16,
        "uint32_t": ctypes.c_uint32, "uint64_t": ctypes.c_uint64, "size_t": ctypes.c_size_t,
        "float": ctypes.c_float, "double": ctypes.c_double, "ff_status": ctypes.c_int32, "void": None,
    }
    s = spelled.replace("const ", "").strip()
    depth = s.count("*")
    base = s.replace("*", "").strip()
    if depth == 1 and base == "char":
        return ctypes.c_char_p
    if depth == 1 and base == "void":
        return ctypes.c_void_p
    if base in simple:
        t = simple[base]
    elif hasattr(_lib, base):
        t = getattr(_lib, base)  # the opaque ctypes.Structure of that name
    else:
        return "unknown type " + base
    for _ in range(depth):
        t = ctypes.POINTER(t)
    return t


def check_binding(signatures):
    sys.path.insert(0, os.path.join(ROOT, "python"))
    try:
        from fastflow import _lib
    except Exception as e:  # noqa: BLE001 - report any import failure
        fail("cannot import python/fastflow/_lib.py: %s" % e)
        return
    table = _lib.PROTOTYPES
    for name in sorted(set(signatures) - set(table)):
        fail("binding: %s is in fastflow.h but not in python/fastflow/_lib.py PROTOTYPES" % name)
    for name in sorted(set(table) - set(signatures)):
        fail("binding: %s is in PROTOTYPES but not in fastflow.h" % name)
    for name in sorted(set(signatures) & set(table)):
        ret, params = signatures[name]
        bret, bparams = table[name]
        if ret is not None and expected_ctype(ret, _lib) is not bret:
            fail("binding: %s returns %s in the header, %r in PROTOTYPES" % (name, ret, bret))
        if len(params) != len(bparams):
            fail("binding: %s has %d parameters in the header, %d in PROTOTYPES" % (name, len(params), len(bparams)))
            continue
        for i, (p, b) in enumerate(zip(params, bparams)):
            if p is not None and expected_ctype(p, _lib) is not b:
                fail("binding: %s parameter %d is %s in the header, %r in PROTOTYPES" % (name, i + 1, p, b))


def enum_values(h):
    """{enumerator: int} of every enum in the header (literal values, or
    the previous value + 1 when omitted)."""
    values = {}
    for enum in h.enums.values():
        nxt = 0
        for e in enum.values.enumerators:
            if e.value is not None:
                if not isinstance(e.value, c_ast.Constant):
                    fail("enumerator %s has a computed value; bindings need literals" % e.name)
                    continue
                nxt = int(e.value.value.rstrip("uUlL"), 0)
            values[e.name] = nxt
            nxt += 1
    return values


def binding_constant(name):
    """The Python binding's value for a header enumerator, or None."""
    import fastflow
    from fastflow import backbone, errors, flow, image, params, scorer, selector, trainer
    if name == "FF_OK":
        return errors.OK
    rules = [("FF_E_", lambda k: getattr(errors, k, None)),
             ("FF_PIXEL_", lambda k: getattr(image, k, None)),
             ("FF_FLOW_", lambda k: getattr(flow, k, None)),
             ("FF_OBJECT_", lambda k: getattr(params, k, None)),
             ("FF_PARAM_", lambda k: getattr(params, k, None)),
             ("FF_EXTRACTOR_", lambda k: getattr(backbone, "EXTRACTOR_" + k, None)),
             ("FF_TRAINER_", lambda k: getattr(trainer, k, None)),
             ("FF_SCORER_", lambda k: getattr(scorer, k, None)),
             ("FF_SELECT_", lambda k: getattr(selector, k, None)),
             ("FF_STAT_", lambda k: getattr(scorer, "STAT_" + k, None)),
             ("FF_PRECISION_", lambda k: getattr(scorer, "PRECISION_" + k, None)),
             ("FF_CPU_", lambda k: getattr(fastflow, "_CPU_" + k, None)),
             ("FF_GLOBAL_", lambda k: getattr(fastflow, "_" + k, None))]
    for prefix, get in rules:
        if name.startswith(prefix):
            return get(name[len(prefix):])
    return None


def check_binding_constants(h):
    """Every enumerator of the header has the same value in the binding."""
    values = enum_values(h)
    if len(values) < 20:
        fail("only %d enumerators parsed" % len(values))
    for name, value in sorted(values.items()):
        got = binding_constant(name)
        if got is None:
            fail("binding: no Python constant for %s = %d" % (name, value))
        elif got != value:
            fail("binding: %s is %d in the header, %r in the binding" % (name, value, got))


BAD_HEADER = """
#include <stdint.h>
#include <stddef.h>
typedef struct ff_thing ff_thing;
typedef struct ff_open { int32_t a; } ff_open;
union ff_u { int32_t a; float b; };
struct ff_bits { uint32_t flag : 1; };
FF_API int32_t ff_varargs(const char *fmt, ...);
FF_API int32_t ff_callback(void (*cb)(int32_t), ff_thing *t);
FF_API int32_t ff_by_value(ff_open o);
FF_API int32_t ff_plain_int(int x);
FF_API int32_t ff_enum(enum ff_kind k);
FF_API int32_t ff_array(float v[4]);
FF_API int32_t ff_no_proto();
FF_API int32_t bad_prefix(void);
FF_API int32_t ff_hw(const float *map, int32_t map_height, int32_t map_width);
FF_API int32_t ff_hw_out(int32_t image_width, int32_t image_height, int32_t *height_out, int32_t *width_out);
FF_API int32_t ff_wh_c(const char *path, int32_t *width_out, int32_t *height_out, int32_t *channels_out);
FF_API int32_t ff_wh_batch(const float *x, int32_t in_width, int32_t in_height, int32_t batch);
"""
BAD_EXPECT = ["union ff_u", "bit-field flag", "varargs", "function pointer", "passes struct ff_open by value",
              "plain C integer type int", "enum type", "array type", "without a prototype",
              "bad_prefix does not start with ff_", "struct ff_open is defined",
              "ff_hw: parameter map_height puts a height before its width map_width",
              "ff_hw_out: parameter height_out puts a height before its width width_out",
              "ff_wh_c: channels_out comes after width_out", "ff_wh_batch: batch comes after in_width"]


def self_test(cc):
    """The checks fire on a header that breaks each rule."""
    global failures
    saved, failures = failures, []
    with tempfile.NamedTemporaryFile("w", suffix=".h", delete=False) as f:
        f.write(BAD_HEADER)
        bad = f.name
    try:
        print("-- self-test on a header that breaks every rule (the FAIL lines below are expected):")
        ast = c_parser.CParser().parse(preprocess(bad, cc), filename="bad.h")
        forbidden_nodes(ast)
        check_header(Header(ast))
    finally:
        os.unlink(bad)
    found, failures = failures, saved
    print("-- end of self-test")
    for want in BAD_EXPECT:
        if not any(want in msg for msg in found):
            fail("self-test: no failure mentioning %r" % want)


def main():
    header = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "include", "fastflow.h")
    cc = sys.argv[2:] or [os.environ.get("CC", "cc")]
    text = preprocess(header, cc)
    ast = c_parser.CParser().parse(text, filename=os.path.basename(header))
    forbidden_nodes(ast)
    h = Header(ast)
    if len(h.functions) < 10:
        fail("only %d functions parsed from %s" % (len(h.functions), header))
    signatures = check_header(h)
    check_binding(signatures)
    check_binding_constants(h)
    self_test(cc)
    print("%d functions, %d typedefs, %d enums parsed; %d problems"
          % (len(h.functions), len(h.typedefs), len(h.enums), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
