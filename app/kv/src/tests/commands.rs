//! Every command through a session, with memcached 1.6's exact replies.

use super::{chat, small_store, store, talk};

#[test]
fn set_then_get_and_gets() {
    let reply = chat("set k 5 0 3\r\nabc\r\nget k\r\ngets k\r\n");
    assert_eq!(
        reply,
        "STORED\r\nVALUE k 5 3\r\nabc\r\nEND\r\nVALUE k 5 3 1\r\nabc\r\nEND\r\n"
    );
}

#[test]
fn multi_key_get_skips_misses_and_repeats_hits() {
    let reply = chat("set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nget a nope b a\r\n");
    let values = "VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nVALUE a 0 1\r\n1\r\nEND\r\n";
    assert_eq!(reply, ["STORED\r\n", "STORED\r\n", values].concat());
}

#[test]
fn get_errors() {
    assert_eq!(chat("get\r\n"), "ERROR\r\n");
    let long = "k".repeat(251);
    assert_eq!(
        chat(&["get a ", &long, "\r\n"].concat()),
        "CLIENT_ERROR bad command line format\r\n"
    );
    assert_eq!(
        chat("get a\0b\r\n"),
        "CLIENT_ERROR bad command line format\r\n"
    );
    // Other control bytes make a key, as in memcached: a miss.
    assert_eq!(chat("get a\x01b\r\n"), "END\r\n");
    assert_eq!(chat("get noreply\r\n"), "END\r\n", "get takes no noreply");
}

#[test]
fn add_replace_append_prepend() {
    let reply = chat(concat!(
        "add k 0 0 1\r\na\r\nadd k 0 0 1\r\nb\r\n",
        "replace x 0 0 1\r\nc\r\nreplace k 0 0 1\r\nd\r\n",
        "append k 0 0 2\r\n>>\r\nprepend k 0 0 2\r\n<<\r\nappend x 0 0 1\r\ne\r\n",
        "get k\r\n"
    ));
    let expected = concat!(
        "STORED\r\nNOT_STORED\r\nNOT_STORED\r\nSTORED\r\n",
        "STORED\r\nSTORED\r\nNOT_STORED\r\n",
        "VALUE k 0 5\r\n<<d>>\r\nEND\r\n"
    );
    assert_eq!(reply, expected);
}

#[test]
fn storage_command_format_errors() {
    let bad = "CLIENT_ERROR bad command line format\r\n";
    assert_eq!(chat("set k 0 0\r\n"), "ERROR\r\n");
    assert_eq!(chat("set k 0 0 1 noreply extra\r\n"), "ERROR\r\n");
    assert_eq!(chat("set k x 0 1\r\n"), bad);
    assert_eq!(chat("set k 4294967296 0 1\r\n"), bad);
    assert_eq!(chat("set k 0 x 1\r\n"), bad);
    assert_eq!(chat("set k 0 0 -1\r\n"), bad);
    assert_eq!(chat("cas k 0 0 1 x\r\n"), bad);
    // The refused line's value is then read as a command, as memcached does.
    assert_eq!(
        chat("set k 0 0 x\r\nvalue\r\n"),
        [bad, "ERROR\r\n"].concat()
    );
    assert_eq!(chat("set k 0 0 noreply\r\n"), "", "noreply silences errors");
}

#[test]
fn bad_data_chunk_and_too_large() {
    assert_eq!(
        chat("set k 0 0 1\r\nab\r\nget k\r\n"),
        "CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n"
    );
    let mut store = small_store(1 << 20, 10);
    let reply = talk(&mut store, "set k 0 0 11\r\n0123456789A\r\nget k\r\n");
    assert_eq!(reply, "SERVER_ERROR object too large for cache\r\nEND\r\n");
    let reply = talk(
        &mut store,
        "set k 0 0 11 noreply\r\n0123456789A\r\nversion\r\n",
    );
    assert_eq!(reply, "VERSION 1.6.0-anykernel\r\n");
    assert_eq!(store.counters().store_too_large, 2);
}

#[test]
fn cas_over_the_wire() {
    let reply = chat(concat!(
        "cas k 0 0 1 1\r\na\r\n",
        "set k 0 0 1\r\na\r\ngets k\r\n",
        "cas k 0 0 1 2\r\nb\r\ncas k 0 0 1 1\r\nc\r\ncas k 0 0 1 1 noreply\r\nd\r\n",
        "gets k\r\n"
    ));
    let expected = concat!(
        "NOT_FOUND\r\n",
        "STORED\r\nVALUE k 0 1 1\r\na\r\nEND\r\n",
        "EXISTS\r\nSTORED\r\n",
        "VALUE k 0 1 2\r\nc\r\nEND\r\n"
    );
    assert_eq!(reply, expected);
}

#[test]
fn delete_and_its_legacy_forms() {
    let usage = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n";
    let reply =
        chat("set k 0 0 1\r\na\r\ndelete k\r\ndelete k\r\ndelete k 0\r\ndelete k 0 noreply\r\n");
    assert_eq!(reply, "STORED\r\nDELETED\r\nNOT_FOUND\r\nNOT_FOUND\r\n");
    assert_eq!(chat("delete k 5\r\n"), usage);
    assert_eq!(chat("delete k 5 6\r\n"), usage);
    assert_eq!(chat("delete\r\ndelete a b c d\r\n"), "ERROR\r\nERROR\r\n");
}

#[test]
fn incr_and_decr() {
    let reply = chat(concat!(
        "incr n 1\r\nset n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\n",
        "incr n x\r\nincr n -1\r\nset s 0 0 1\r\nx\r\nincr s 1\r\nincr n 1 noreply\r\nget n\r\n"
    ));
    let expected = concat!(
        "NOT_FOUND\r\nSTORED\r\n15\r\n0\r\n",
        "CLIENT_ERROR invalid numeric delta argument\r\n",
        "CLIENT_ERROR invalid numeric delta argument\r\nSTORED\r\n",
        "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
        "VALUE n 0 2\r\n1 \r\nEND\r\n"
    );
    assert_eq!(reply, expected);
    assert_eq!(chat("incr n\r\ndecr a b c d\r\n"), "ERROR\r\nERROR\r\n");
}

#[test]
fn touch_and_gat() {
    let reply = chat(
        "set k 3 0 1\r\nv\r\ntouch k 10\r\ntouch j 10\r\ntouch k x\r\ngat 0 k j\r\ngats 0 k\r\ngat x k\r\n",
    );
    let expected = concat!(
        "STORED\r\nTOUCHED\r\nNOT_FOUND\r\n",
        "CLIENT_ERROR invalid exptime argument\r\n",
        "VALUE k 3 1\r\nv\r\nEND\r\nVALUE k 3 1 1\r\nv\r\nEND\r\n",
        "CLIENT_ERROR invalid exptime argument\r\n"
    );
    assert_eq!(reply, expected);
    assert_eq!(chat("touch k\r\n"), "ERROR\r\n");
}

#[test]
fn flush_all_forms() {
    let reply = chat(
        "set k 0 0 1\r\nv\r\nflush_all\r\nget k\r\nflush_all 10\r\nflush_all noreply\r\nflush_all 0 noreply\r\nflush_all x\r\n",
    );
    let expected = "STORED\r\nOK\r\nEND\r\nOK\r\nCLIENT_ERROR invalid exptime argument\r\n";
    assert_eq!(reply, expected);
    assert_eq!(chat("flush_all 1 2 3\r\n"), "ERROR\r\n");
}

#[test]
fn stats_version_verbosity() {
    let mut store = store();
    let reply = talk(
        &mut store,
        "set k 0 0 1\r\nv\r\nget k\r\nget j\r\nstats\r\n",
    );
    assert!(reply.contains("STAT version 1.6.0-anykernel\r\n"));
    for line in [
        "STAT curr_items 1\r\n",
        "STAT get_hits 1\r\n",
        "STAT get_misses 1\r\n",
        "STAT cmd_set 1\r\n",
    ] {
        assert!(reply.contains(line), "{line} in {reply}");
    }
    assert!(reply.ends_with("END\r\n"));
    assert_eq!(reply.matches("STAT ").count(), crate::STATISTIC_COUNT + 1);
    assert_eq!(talk(&mut store, "stats reset\r\n"), "RESET\r\n");
    assert_eq!(store.counters().get_hits, 0);
    assert_eq!(
        talk(&mut store, "stats items\r\nstats bogus\r\n"),
        "ERROR\r\nERROR\r\n"
    );
    assert_eq!(chat("version\r\n"), "VERSION 1.6.0-anykernel\r\n");
    // As memcached: extra words, `noreply` included, are ignored.
    assert_eq!(chat("version noreply\r\n"), "VERSION 1.6.0-anykernel\r\n");
    assert_eq!(chat("version foo bar\r\n"), "VERSION 1.6.0-anykernel\r\n");
    assert_eq!(
        chat("verbosity 1\r\nverbosity x\r\nverbosity 1 noreply\r\nverbosity\r\n"),
        "OK\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n"
    );
}

#[test]
fn unknown_and_empty_lines() {
    assert_eq!(
        chat("bogus\r\n\r\nx\r\nmg k v\r\n  \r\n"),
        "ERROR\r\n".repeat(5)
    );
}

#[test]
fn noreply_on_every_storage_command() {
    let reply = chat(concat!(
        "set k 0 0 1 noreply\r\n1\r\nadd k 0 0 1 noreply\r\n2\r\nreplace k 0 0 1 noreply\r\n3\r\n",
        "append k 0 0 1 noreply\r\n4\r\nprepend k 0 0 1 noreply\r\n5\r\n",
        "incr k 1 noreply\r\ndecr k 1 noreply\r\ntouch k 0 noreply\r\nget k\r\ndelete k noreply\r\nget k\r\n"
    ));
    assert_eq!(reply, "VALUE k 0 3\r\n534\r\nEND\r\nEND\r\n");
}

#[test]
fn quit_closes_after_earlier_replies() {
    let mut store = store();
    let mut session = crate::Session::new();
    let status = session.input(b"version\r\nquit\r\nversion\r\n", &mut store, super::NOW);
    assert_eq!(status, crate::Status::Close);
    assert_eq!(session.take_output(), b"VERSION 1.6.0-anykernel\r\n");
    assert!(!session.wants_input());
}
