//! The xl.cfg syntax layer: `parse_raw`.

use rxen_domain_config::{parse_raw, raw::parse_number, ErrorKind, Value};

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

fn raw(text: &str) -> Vec<(usize, String, Value)> {
    parse_raw(text).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    match parse_raw(text) {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Syntax);
            e.to_string()
        }
    }
}

#[test]
fn basic_values_and_lines() {
    let got = raw("# comment\n\nname = \"a\"\nmemory=512\nvif = [ 'bridge=xenbr0', \"mac=00:16:3e:00:00:01\" ]\n");
    assert_eq!(
        got,
        vec![
            (3, "name".into(), s("a")),
            (4, "memory".into(), Value::Int(512)),
            (
                5,
                "vif".into(),
                Value::List(vec![s("bridge=xenbr0"), s("mac=00:16:3e:00:00:01")])
            ),
        ]
    );
}

#[test]
fn numbers_decimal_octal_hex() {
    let got = raw("a = 10\nb = 010\nc = 0x1F\nd = 0\ne = 0xff\n");
    let vals: Vec<_> = got.into_iter().map(|(_, _, v)| v).collect();
    assert_eq!(
        vals,
        vec![
            Value::Int(10),
            Value::Int(8),
            Value::Int(31),
            Value::Int(0),
            Value::Int(255)
        ]
    );
    assert_eq!(parse_number("18446744073709551615"), Some(u64::MAX));
    assert_eq!(parse_number("18446744073709551616"), None);
    assert_eq!(parse_number("0x"), None);
    assert_eq!(parse_number(""), None);
    assert_eq!(parse_number("1 "), None);
}

#[test]
fn semicolons_separate_settings() {
    let got = raw("name = \"h0\"; type = \"pvh\";\n;;\nvcpus = 2;");
    assert_eq!(got.len(), 3);
    assert_eq!(got[1], (1, "type".into(), s("pvh")));
    assert_eq!(got[2], (3, "vcpus".into(), Value::Int(2)));
}

#[test]
fn no_trailing_newline_and_empty_file() {
    assert_eq!(raw("x = 1"), vec![(1, "x".into(), Value::Int(1))]);
    assert!(raw("").is_empty());
    assert!(raw("\n\n# only a comment").is_empty());
}

#[test]
fn hash_inside_string_is_not_a_comment() {
    let got = raw("extra = \"console=hvc0 # not a comment\" # a comment\nx = 'a#b'\n");
    assert_eq!(got[0].2, s("console=hvc0 # not a comment"));
    assert_eq!(got[1].2, s("a#b"));
}

#[test]
fn adjacent_strings_are_an_error() {
    assert_eq!(
        err("a = 'it''s'"),
        "line 1: expected the end of the line after the value of `a`, found the string \"s\"; \
         put each setting on its own line or separate them with `;`"
    );
}

#[test]
fn escapes_like_xl() {
    let got = raw(concat!(
        r#"a = "say \"hi\"""#,
        "\n",
        r"b = 'it\'s'",
        "\n",
        r#"c = "back\\slash""#,
        "\n",
        r#"d = "tab\there\nnl\x41\101""#,
        "\n",
        r#"e = 'double " inside single'"#,
        "\n",
        r#"f = "single ' inside double""#,
        "\n",
    ));
    let vals: Vec<_> = got.into_iter().map(|(_, _, v)| v).collect();
    assert_eq!(
        vals,
        vec![
            s("say \"hi\""),
            s("it's"),
            s("back\\slash"),
            s("tab\there\nnlAA"),
            s("double \" inside single"),
            s("single ' inside double"),
        ]
    );
}

#[test]
fn utf8_in_strings() {
    assert_eq!(raw("name = \"gäst-ü\"")[0].2, s("gäst-ü"));
}

#[test]
fn multi_line_lists_with_comments_and_trailing_comma() {
    let text = "disk = [\n  'phy:/dev/vg/a,xvda,w',  # root\n\n  # swap next\n  'phy:/dev/vg/b,xvdb,w',\n]\nafter = 1\n";
    let got = raw(text);
    assert_eq!(
        got[0],
        (
            1,
            "disk".into(),
            Value::List(vec![s("phy:/dev/vg/a,xvda,w"), s("phy:/dev/vg/b,xvdb,w")])
        )
    );
    assert_eq!(got[1], (7, "after".into(), Value::Int(1)));
}

#[test]
fn empty_nested_and_heterogeneous_lists() {
    let got = raw("a = []\nb = [ 1, 'x', [2, [ ]] ]\nc = [\n]\n");
    assert_eq!(got[0].2, Value::List(vec![]));
    assert_eq!(
        got[1].2,
        Value::List(vec![
            Value::Int(1),
            s("x"),
            Value::List(vec![Value::Int(2), Value::List(vec![])])
        ])
    );
    assert_eq!(got[2].2, Value::List(vec![]));
}

#[test]
fn crlf_line_endings() {
    let got = raw("name = \"a\"\r\n# c\r\nvif = [\r\n 'x',\r\n 'y'\r\n]\r\nmemory = 64\r\n");
    assert_eq!(got[0], (1, "name".into(), s("a")));
    assert_eq!(got[1], (3, "vif".into(), Value::List(vec![s("x"), s("y")])));
    assert_eq!(got[2], (7, "memory".into(), Value::Int(64)));
    // And errors still count lines right.
    assert!(err("a = 1\r\nb = \r\n").starts_with("line 2: "));
}

#[test]
fn plus_equals_appends() {
    let got = raw("extra = 'a'\nextra += ' b'\nvif = ['x']\nvif += ['y']\nnew += 'z'\n");
    assert_eq!(got[1], (2, "extra".into(), s("a b")));
    assert_eq!(got[3], (4, "vif".into(), Value::List(vec![s("x"), s("y")])));
    assert_eq!(got[4], (5, "new".into(), s("z")));
    assert_eq!(
        err("memory = 1\nmemory += 2\n"),
        "line 2: `memory += 2`: `+=` cannot be used with numbers"
    );
    assert!(err("a = 'x'\na += ['y']\n").starts_with("line 2: `a +=`: cannot add a list"));
}

#[test]
fn value_display_round_trips() {
    let v = Value::List(vec![
        s("q\"b\\s\n\t\u{1}"),
        Value::Int(7),
        Value::List(vec![]),
    ]);
    let text = format!("k = {v}\n");
    assert_eq!(raw(&text)[0].2, v);
}

#[test]
fn value_helpers() {
    assert_eq!(s("0x10").as_int(), Some(16));
    assert_eq!(s("lots").as_int(), None);
    assert_eq!(Value::Int(0).as_bool(), Some(false));
    assert_eq!(Value::Int(2).as_bool(), Some(true));
    assert_eq!(s("1").as_bool(), Some(true));
    assert_eq!(s("true").as_bool(), None);
    assert_eq!(Value::List(vec![]).as_list(), Some(&[][..]));
    assert_eq!(s("x").as_str(), Some("x"));
    assert_eq!(Value::Int(1).as_str(), None);
}

#[test]
fn syntax_errors_with_line_numbers() {
    let cases: &[(&str, &str)] = &[
        ("a = 1\nb = \"open\n", "line 2: unterminated string: a double-quoted string must end with `\"` on the line it starts"),
        ("a = 'open", "line 1: unterminated string: a single-quoted string must end with `'` on the line it starts"),
        ("a = \"x\\\"\n", "line 1: unterminated string: a double-quoted string must end with `\"` on the line it starts"),
        ("\n\na = \"\\q\"", "line 3: invalid escape `\\q` in string (write `\\\\` for a backslash)"),
        ("a = \"\\x4\"", "line 1: invalid `\\x` escape in string: expected two hex digits"),
        ("a = \"\\xff\"", "line 1: escape for byte 0xff in string: only ASCII escapes are allowed"),
        ("a = \"\\377\"", "line 1: escape for byte 0xff in string: only ASCII escapes are allowed"),
        ("a = 1\nmemory\n", "line 2: expected `=` after `memory`, found the end of the line"),
        ("memory 512", "line 1: expected `=` after `memory`, found the number 512"),
        ("a = 1\nb =\n2\n", "line 2: `b =` has no value (it must be on the same line as the key)"),
        ("b =", "line 1: `b =` has no value (it must be on the same line as the key)"),
        ("b = ;", "line 1: `b =` has no value (it must be on the same line as the key)"),
        ("kernel = vmlinuz", "line 1: `kernel = vmlinuz`: strings must be quoted, e.g. kernel = \"vmlinuz\""),
        ("= 5", "line 1: expected a setting (`key = value`), found `=`"),
        ("\"a\" = 5", "line 1: expected a setting (`key = value`), found the string \"a\""),
        ("Memory = 5", "line 1: invalid key `Memory`: keys are lowercase letters, digits and `_`, starting with a letter (and string values must be quoted)"),
        ("_x = 5", "line 1: invalid key `_x`: keys are lowercase letters, digits and `_`, starting with a letter (and string values must be quoted)"),
        ("name = \"a\" type = \"pvh\"", "line 1: expected the end of the line after the value of `name`, found `type`; put each setting on its own line or separate them with `;`"),
        ("a = 1 2", "line 1: expected the end of the line after the value of `a`, found the number 2; put each setting on its own line or separate them with `;`"),
        ("memory = 512 * 2", "line 1: unexpected character `*` (xl.cfg is not Python: no expressions; quote strings)"),
        ("memory = -1", "line 1: unexpected character `-` (xl.cfg is not Python: no expressions; quote strings)"),
        ("a = 1\nb = 09\n", "line 2: invalid number `09`: a leading 0 makes a number octal (digits 0-7)"),
        ("b = 12abc", "line 1: invalid number `12abc`: numbers are decimal, octal (leading 0) or hexadecimal (0x), and strings must be quoted"),
        ("b = 0x", "line 1: invalid number `0x`: numbers are decimal, octal (leading 0) or hexadecimal (0x), and strings must be quoted"),
        ("b = 99999999999999999999", "line 1: invalid number `99999999999999999999`: it does not fit in 64 bits"),
        ("a = 1\nb = [ 'x',\n'y'\n", "line 2: the list for `b` opened on line 2 is never closed with `]`"),
        ("b = [ 'x' 'y' ]", "line 1: expected `,` or `]` in the list for `b`, found the string \"y\""),
        ("b = [ 'x',\n , 'y' ]", "line 2: expected a value for `b`, found `,`"),
        ("b = [ 'x'; 'y' ]", "line 1: expected `,` or `]` in the list for `b`, found `;`"),
        ("b = ]", "line 1: expected a value for `b`, found `]`"),
        ("a = 1\n\u{e9} = 2", "line 2: unexpected character `é`"),
        ("a = 1\n\t@", "line 2: unexpected character `@`"),
    ];
    for (text, want) in cases {
        assert_eq!(&err(text), want, "for input {text:?}");
    }
}

#[test]
fn deep_nesting_is_bounded() {
    let ok = format!("a = {}{}", "[".repeat(16), "]".repeat(16));
    assert!(parse_raw(&ok).is_ok());
    let deep = format!("a = {}{}", "[".repeat(17), "]".repeat(17));
    assert_eq!(
        err(&deep),
        "line 1: lists in `a` are nested more than 16 deep"
    );
    // Far deeper input must not overflow the stack.
    let huge = "a = ".to_string() + &"[".repeat(100_000);
    assert!(parse_raw(&huge).is_err());
}
