"""moto's server as the local stack runs it (tools/local/motoserver starts it).

moto itself, unmodified, with two things of ours around it:

- With --serialise, every DynamoDB and DynamoDB Streams request is served under one lock.
  moto's threaded server otherwise runs two UpdateItems of one item at once, and a
  conditional write can then pass its condition on a value another thread is about to
  change (two winners of one race). DynamoDB applies each item's writes one at a time; so
  does this server. Other services run concurrently.
- A cancelled TransactWriteItems is undone item by item. moto (5.2.5) snapshots every table
  a transaction touches with a deep copy before it, and on cancellation puts the copies in
  the tables' places. That copies the whole table and its stream on every transaction (the
  cost grows with the table: the local stack slowed down the longer it ran), and the copy
  brings a new stream shard: a reader already iterating the stream keeps the old one and
  never sees another record (the local publisher stopped after the first cancelled
  transaction). Here the transaction remembers the items it touches and the length of each
  stream; on cancellation it puts those items back and cuts the streams back. Under the
  lock nothing else runs meanwhile, so that is the whole undo.
- A Query of a table's partition reads that partition. moto sorts every item of the table
  to answer any Query, so a job's read slowed with every job the table held (175 ms a cancel
  in make bench's table of a few thousand items). The answer is the same: only the items it
  is given change, from all of them to the partition's.

The server also ends when its standard input closes: the Go process that started it holds
the other end, so the server dies with it on every OS (Linux's Pdeathsig exists nowhere
else).
"""

import argparse
import copy
import os
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

SERIALISED_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")


class Serialised:
    """WSGI middleware: requests to SERIALISED_TARGETS run one at a time, their whole
    response produced under the lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(SERIALISED_TARGETS):
            return self.app(environ, start_response)
        with self.lock:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


class _CopyButTables:
    """The copy module as moto's DynamoDB backend sees it: a Table is not copied (its
    transaction snapshot); anything else is, as before."""

    @staticmethod
    def deepcopy(x, memo=None):
        return x if isinstance(x, Table) else copy.deepcopy(x, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def undo_cancelled_transactions():
    """Replace moto's whole-table snapshot of a transaction with an undo of the items it
    touched (see the module's doc)."""
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        touched, streams = [], {}
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            keys = op.get("Item") if op_type == "Put" else op.get("Key")
            try:
                hash_key, range_key = self.get_keys_value(table, keys or {})
            except Exception:
                continue  # moto refuses the request itself
            touched.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            if table.stream_shard is not None:
                streams.setdefault(id(table.stream_shard), (table.stream_shard, len(table.stream_shard.items)))
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_key, range_key, before in reversed(touched):
                put_back(table, hash_key, range_key, before)
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    dynamodb_models.copy = _CopyButTables()
    DynamoDBBackend.transact_write_items = transact_write_items


def query_partitions_directly():
    """A Query of the table itself (not an index) considers only the partition it asks for
    (see the module's doc); moto's own Query does the rest, on those items."""
    query = Table.query

    def partition_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                        scan_index_forward, projection_expressions, index_name=None, *args, **kwargs):
        if index_name or not self.range_key_attr or hash_key is None:
            return query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                         scan_index_forward, projection_expressions, index_name, *args, **kwargs)
        partition = list(self.items[hash_key].values()) if hash_key in self.items else []
        self.all_items = lambda: sorted(partition, key=lambda item: (item.hash_key, item.range_key))
        try:
            return query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                         scan_index_forward, projection_expressions, index_name, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = partition_query


def put_back(table, hash_key, range_key, item):
    """Puts item (None: no item) back under its key, as it was before a transaction."""
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    if item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
        if not table.items.get(hash_key, True):
            del table.items[hash_key]
    else:
        table.items[hash_key][range_key] = item


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--serialise", action="store_true", help="serve DynamoDB and its streams one request at a time")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=0,
        help="the interpreter's thread switch interval in seconds (tests shorten it to make races show)",
    )
    args = parser.parse_args()
    if args.switch_interval > 0:
        sys.setswitchinterval(args.switch_interval)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    app = DomainDispatcherApplication(create_backend_app)
    if args.serialise:
        undo_cancelled_transactions()
        query_partitions_directly()
        app = Serialised(app)
    run_simple("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
