#!/usr/bin/python3
"""Which tables and indexes an SQLite bench run wrote: counts the WAL's frames per B-tree.

Run the bench with BENCH_KEEP_DATABASE=1 (it prints the folder it kept); then
    bench/wal-pages.py FOLDER EVENTS
The WAL holds what was written since its last checkpoint (every 50,000 pages): a sample of the run's end, unless
checkpoints were held off (the fifth session's figures in docs/benchmarks.md: a worker built with
wal_autocheckpoint raised, EVENTS = warm-up + timed load).
Needs Debian's /usr/bin/python3 (its sqlite3 module has the dbstat table).
"""
import collections, shutil, sqlite3, struct, sys, tempfile, os

folder, events = sys.argv[1], int(sys.argv[2])
wal = open(os.path.join(folder, "bench.db-wal"), "rb").read()
_, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">8I", wal[:32])
pages, commits, offset = [], 0, 32
while offset + 24 + page_size <= len(wal):
    page, db_size, s1, s2 = struct.unpack(">4I", wal[offset:offset + 16])
    if (s1, s2) != (salt1, salt2):
        break
    pages.append(page)
    commits += db_size != 0
    offset += 24 + page_size
copy = tempfile.mkdtemp()
shutil.copy(os.path.join(folder, "bench.db"), os.path.join(copy, "a.db"))
shutil.copy(os.path.join(folder, "bench.db-wal"), os.path.join(copy, "a.db-wal"))
owner = {page: name for name, page in sqlite3.connect(os.path.join(copy, "a.db")).execute("SELECT name, pageno FROM dbstat")}
print(f"page size {page_size}, {len(pages)} frames in {commits} commits, {len(pages) / events:.2f} pages an event")
for name, n in collections.Counter(owner.get(p, "(freed)") for p in pages).most_common():
    print(f"{name:40s} {n:8d} {n * 100 / len(pages):5.1f} %  {n * page_size / 1024 / events:5.2f} KiB an event")
shutil.rmtree(copy)
