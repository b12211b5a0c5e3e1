#!/usr/bin/env python3
"""ctypes_test.py: drive libstow from Python through ctypes alone.

Usage: ctypes_test.py LIBSTOW_SO

Loads the shared library, declares the prototypes and structures of
<stow.h> by hand, stows a two-package fixture through the plan API
with Python callbacks, and checks the tree on disk.  Prints one line
per check and exits non-zero on the first failure.
"""
import ctypes as C
import os
import shutil
import sys
import tempfile

STOW_OPTS_VERSION = 1
STOW_ECONFLICT = -6
STOW_ENOTFOUND = -4
STOW_EMISUSE = -8
OP_KINDS = {1: "MKDIR", 2: "RMDIR", 3: "LINK", 4: "UNLINK", 5: "MOVE",
            6: "BACKUP"}


class StowOpts(C.Structure):
    # Field order is the ABI: version, stow_dir, target_dir, home_dir,
    # flags, backup_dir, journal.  Every field must be here: the library
    # reads the whole struct, and a missing one is whatever lies after.
    _fields_ = [("version", C.c_uint),
                ("stow_dir", C.c_char_p),
                ("target_dir", C.c_char_p),
                ("home_dir", C.c_char_p),
                ("flags", C.c_uint),
                ("backup_dir", C.c_char_p),
                ("journal", C.c_char_p)]


class StowOp(C.Structure):
    _fields_ = [("kind", C.c_int),          # enum stow_op_kind
                ("path", C.c_char_p),
                ("link", C.c_char_p),
                ("dest", C.c_char_p),
                ("package", C.c_char_p)]


class StowConflict(C.Structure):
    _fields_ = [("action", C.c_int),        # enum stow_action
                ("kind", C.c_int),          # enum stow_conflict_kind
                ("package", C.c_char_p),
                ("path", C.c_char_p),
                ("message", C.c_char_p)]


OP_CB = C.CFUNCTYPE(C.c_int, C.POINTER(StowOp), C.c_void_p)
CONFLICT_CB = C.CFUNCTYPE(C.c_int, C.POINTER(StowConflict), C.c_void_p)
LOG_CB = C.CFUNCTYPE(None, C.c_int, C.c_char_p, C.c_void_p)

checks = 0


def check(cond, what):
    global checks
    checks += 1
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        sys.exit(1)


def load(path):
    lib = C.CDLL(path)
    ctx_p, plan_p = C.c_void_p, C.c_void_p
    protos = {
        "stow_version_number": (C.c_int, []),
        "stow_version_string": (C.c_char_p, []),
        "stow_strerror": (C.c_char_p, [C.c_int]),
        "stow_ctx_new": (ctx_p, []),
        "stow_ctx_free": (None, [ctx_p]),
        "stow_ctx_configure": (C.c_int, [ctx_p, C.POINTER(StowOpts)]),
        "stow_ctx_errmsg": (C.c_char_p, [ctx_p]),
        "stow_ctx_errno": (C.c_int, [ctx_p]),
        "stow_ctx_set_log": (None, [ctx_p, C.c_int, LOG_CB, C.c_void_p]),
        "stow_plan_new": (C.c_int, [C.POINTER(plan_p), ctx_p]),
        "stow_plan_free": (None, [plan_p]),
        "stow_plan_stow": (C.c_int, [plan_p, C.c_char_p]),
        "stow_plan_op_count": (C.c_size_t, [plan_p]),
        "stow_plan_foreach_op": (C.c_int, [plan_p, OP_CB, C.c_void_p]),
        "stow_plan_conflict_count": (C.c_size_t, [plan_p]),
        "stow_plan_foreach_conflict": (C.c_int,
                                       [plan_p, CONFLICT_CB, C.c_void_p]),
        "stow_plan_apply": (C.c_int, [plan_p, OP_CB, C.c_void_p]),
    }
    for name, (res, args) in protos.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def snapshot(top):
    out = []
    for d, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            p = os.path.join(d, name)
            rel = os.path.relpath(p, top)
            if os.path.islink(p):
                out.append(("l", rel, os.readlink(p)))
            elif os.path.isdir(p):
                out.append(("d", rel, None))
            else:
                out.append(("f", rel, None))
    return sorted(out)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ctypes_test.py LIBSTOW_SO")
    lib = load(sys.argv[1])

    ver = lib.stow_version_string().decode()
    num = lib.stow_version_number()
    parts = [int(x) for x in ver.split(".")]
    check(num == parts[0] * 10000 + parts[1] * 100 + parts[2],
          "stow_version_string() %r matches stow_version_number() %d"
          % (ver, num))
    msg = lib.stow_strerror(STOW_ECONFLICT)
    check(msg is not None and b"conflict" in msg.lower(),
          "stow_strerror(-6) = %r" % msg)
    check(lib.stow_strerror(-9999) is not None,
          "stow_strerror(-9999) is not NULL")

    tmp = tempfile.mkdtemp(prefix="stow-ctypes.")
    try:
        root = os.path.join(tmp, "root")
        stowdir = os.path.join(root, "stow")
        write(os.path.join(stowdir, "pkgA/bin/a"), "a\n")
        write(os.path.join(stowdir, "pkgA/share/doc/pkgA/README"), "r\n")
        write(os.path.join(stowdir, "pkgB/bin/b"), "b\n")
        write(os.path.join(stowdir, "pkgB/etc/b.conf"), "c\n")
        write(os.path.join(root, "bin/existing"), "e\n")

        ctx = lib.stow_ctx_new()
        check(bool(ctx), "stow_ctx_new()")
        logs = []
        log_cb = LOG_CB(lambda lvl, m, p: logs.append((lvl, m.decode())))
        lib.stow_ctx_set_log(ctx, 1, log_cb, None)

        opts = StowOpts(STOW_OPTS_VERSION, os.path.join(tmp, "nope").encode(),
                        root.encode(), None, 0, None)
        rc = lib.stow_ctx_configure(ctx, C.byref(opts))
        err = lib.stow_ctx_errmsg(ctx).decode()
        check(rc == STOW_ENOTFOUND and "nope" in err,
              "configure of a missing stow dir: %d, %r" % (rc, err))
        opts.stow_dir = stowdir.encode()
        rc = lib.stow_ctx_configure(ctx, C.byref(opts))
        check(rc == 0, "stow_ctx_configure() = %d" % rc)

        before = snapshot(root)
        plan = C.c_void_p()
        check(lib.stow_plan_new(C.byref(plan), ctx) == 0, "stow_plan_new()")
        for pkg in (b"pkgA", b"pkgB"):
            rc = lib.stow_plan_stow(plan, pkg)
            check(rc == 0, "stow_plan_stow(%s) = %d" % (pkg.decode(), rc))
        check(lib.stow_plan_conflict_count(plan) == 0, "no conflicts")

        ops = []

        def collect(op, payload):
            o = op.contents
            ops.append((OP_KINDS.get(o.kind, o.kind), o.path.decode(),
                        o.link.decode() if o.link else None))
            return 0
        op_cb = OP_CB(collect)
        rc = lib.stow_plan_foreach_op(plan, op_cb, None)
        want = [("LINK", "bin/a", "../stow/pkgA/bin/a"),
                ("LINK", "share", "stow/pkgA/share"),
                ("LINK", "bin/b", "../stow/pkgB/bin/b"),
                ("LINK", "etc", "stow/pkgB/etc")]
        check(rc == 0 and sorted(ops) == sorted(want),
              "foreach_op collected %r" % ops)
        check(lib.stow_plan_op_count(plan) == len(want), "op_count = 4")
        check(snapshot(root) == before, "planning changed nothing on disk")

        # A non-zero return from the callback stops the walk and comes back.
        stop_cb = OP_CB(lambda op, p: 42)
        check(lib.stow_plan_foreach_op(plan, stop_cb, None) == 42,
              "callback's non-zero return is returned")

        applied = []
        apply_cb = OP_CB(lambda op, p: applied.append(
            op.contents.path.decode()) or 0)
        rc = lib.stow_plan_apply(plan, apply_cb, None)
        check(rc == 0 and sorted(applied) == sorted(o[1] for o in ops),
              "stow_plan_apply() = %d (%s), saw %r"
              % (rc, lib.stow_ctx_errmsg(ctx).decode(), applied))
        check(lib.stow_plan_apply(plan, OP_CB(), None) == STOW_EMISUSE,
              "second apply is STOW_EMISUSE")
        check(any(m.startswith("LINK: ") for _, m in logs),
              "log callback saw %d lines" % len(logs))
        lib.stow_plan_free(plan)

        # A plain file in the way: a conflict, and apply changes nothing.
        write(os.path.join(stowdir, "pkgC/bin/existing"), "c\n")
        before = snapshot(root)
        plan = C.c_void_p()
        check(lib.stow_plan_new(C.byref(plan), ctx) == 0, "second plan")
        check(lib.stow_plan_stow(plan, b"pkgC") == 0, "stow_plan_stow(pkgC)")
        conflicts = []

        def on_conflict(c, payload):
            c = c.contents
            conflicts.append((c.action, c.kind, c.package.decode(),
                              c.path.decode(), c.message.decode()))
            return 0
        conflict_cb = CONFLICT_CB(on_conflict)
        rc = lib.stow_plan_foreach_conflict(plan, conflict_cb, None)
        check(rc == 0 and len(conflicts) == 1 and
              conflicts[0][:4] == (1, 1, "pkgC", "bin/existing") and
              "bin/existing" in conflicts[0][4],
              "foreach_conflict collected %r" % conflicts)
        rc = lib.stow_plan_apply(plan, OP_CB(), None)
        check(rc == STOW_ECONFLICT and snapshot(root) == before,
              "apply with a conflict = %d, nothing changed" % rc)
        lib.stow_plan_free(plan)
        lib.stow_ctx_free(ctx)
        lib.stow_ctx_free(None)

        got = [x for x in snapshot(root) if x[1] != "stow" and
               not x[1].startswith("stow/")]
        want_tree = sorted([("d", "bin", None),
                            ("f", "bin/existing", None),
                            ("l", "bin/a", "../stow/pkgA/bin/a"),
                            ("l", "bin/b", "../stow/pkgB/bin/b"),
                            ("l", "etc", "stow/pkgB/etc"),
                            ("l", "share", "stow/pkgA/share")])
        check(got == want_tree, "tree on disk: %r" % got)
        with open(os.path.join(root, "share/doc/pkgA/README")) as f:
            check(f.read() == "r\n", "share/doc/pkgA/README reads through")
    finally:
        shutil.rmtree(tmp)
    print("%d checks passed (libstow %s)" % (checks, ver))


if __name__ == "__main__":
    main()
