//! The program's IDL (`idl/droppin.json`, Codama format) is generated from this crate's code:
//! Codama reads the `codama(...)` attributes (accounts of each instruction, account layouts and
//! their PDA seeds, errors with their messages), and the doc comments become the IDL's docs.
//! This test regenerates it and fails when the checked-in file differs, so it cannot drift;
//! `DROPPIN_WRITE_IDL=1 cargo test -p droppin-interface --test idl` rewrites it.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::LazyLock,
};

use codama::{CamelCaseString, Codama};
use serde_json::{Value, json};

/// What the attributes cannot say: the account header, the seed addresses and the token legs.
const PROGRAM_DOCS: &[&str] = &[
    "dropPIN: federated-learning rounds with an escrowed pool, commit-reveal updates, a drawn \
     validator committee and settlement by verdict leaves.",
    "Every program account starts with a two-byte header [accountType, version] (the accountType \
     enum; version 1), followed by the borsh encoding of its body; each account's first two \
     fields are that header, and its accountType is its discriminator. The verdictLeaves account \
     carries, after its body, a region sized at creation holding 3-byte leaves (outcome u8, \
     weight in bps u16 LE) in join order.",
    "Accounts a round creates for each participant are not PDAs but system-program \
     create_with_seed addresses with the round as base: address = sha256(round || seed || \
     program), seed 32 ASCII bytes. A nodeState's seed is 'n' then the lowercase hex of the \
     node's key, cut to 32 characters; a seat's is 's', the committee level's digit, then the \
     hex of the validator's key; a cidMarker's is the hex of the first 16 bytes of the CID's \
     sha256 digest.",
    "CIDs are 36-byte CIDv1 (raw codec, sha2-256 multihash): 01 55 12 20 then the blob's sha256.",
    "In a $dPIN round, instructions that move round value take four optional trailing accounts: \
     the SPL Token program, the $dPIN mint, the round's tokenVault PDA and the wallet's $dPIN \
     account; a $dPIN bond takes the same four with its bondToken PDA. Absent in SOL rounds and \
     SOL bonds (optional accounts are omitted).",
];

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn idl_path() -> PathBuf {
    crate_dir().join("../../idl/droppin.json")
}

/// Doc comments of the crate's types, their fields and their variants, keyed by the camelCase
/// names the IDL gives them (`type`, `type.field`, `type.variant`, `type.variant.field`).
struct DocComments(BTreeMap<String, Vec<String>>);

impl DocComments {
    fn read(dir: &Path) -> DocComments {
        let mut docs = DocComments(BTreeMap::new());
        docs.read_dir(dir);
        docs
    }

    fn read_dir(&mut self, dir: &Path) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                self.read_dir(&path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let source = std::fs::read_to_string(&path).unwrap();
                let file = syn::parse_file(&source).unwrap();
                self.read_items(&file.items);
            }
        }
    }

    fn read_items(&mut self, items: &[syn::Item]) {
        for item in items {
            match item {
                syn::Item::Struct(item) => {
                    let name = camel(&item.ident);
                    self.insert(&name, &item.attrs);
                    self.read_fields(&name, &item.fields);
                }
                syn::Item::Enum(item) => {
                    let name = camel(&item.ident);
                    self.insert(&name, &item.attrs);
                    for variant in &item.variants {
                        let key = format!("{name}.{}", camel(&variant.ident));
                        self.insert(&key, &variant.attrs);
                        self.read_fields(&key, &variant.fields);
                    }
                }
                _ => {}
            }
        }
    }

    fn read_fields(&mut self, owner: &str, fields: &syn::Fields) {
        for field in fields {
            if let Some(ident) = &field.ident {
                self.insert(&format!("{owner}.{}", camel(ident)), &field.attrs);
            }
        }
    }

    fn insert(&mut self, key: &str, attrs: &[syn::Attribute]) {
        let text = attrs
            .iter()
            .filter_map(|attr| match &attr.meta {
                syn::Meta::NameValue(doc) if doc.path.is_ident("doc") => match &doc.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(line),
                        ..
                    }) => Some(line.value().trim().to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() {
            // Paragraphs stay apart; rustdoc's intra-doc links become plain code spans.
            let paragraphs = text
                .split("  ")
                .map(|paragraph| paragraph.replace("[`", "`").replace("`]", "`"))
                .collect();
            self.0.insert(key.to_string(), paragraphs);
        }
    }

    /// Sets `node.docs` from `key`'s doc comment, if it has one.
    fn apply(&self, node: &mut Value, key: &str) {
        if let Some(docs) = self.0.get(key) {
            node["docs"] = json!(docs);
        }
    }

    /// Documents each field of a struct type node from the fields of `owner`.
    fn apply_fields(&self, struct_type: &mut Value, owner: &str) {
        let Some(fields) = struct_type
            .get_mut("fields")
            .and_then(|fields| fields.as_array_mut())
        else {
            return;
        };
        for field in fields {
            let key = format!("{owner}.{}", field["name"].as_str().unwrap());
            self.apply(field, &key);
        }
    }
}

fn camel(ident: &syn::Ident) -> String {
    CamelCaseString::from(ident.to_string()).to_string()
}

/// The IDL the code describes, generated once for every test here.
static GENERATED: LazyLock<String> = LazyLock::new(generate);

/// The IDL as the code describes it, with docs, pretty-printed.
fn generate() -> String {
    let root = Codama::load(crate_dir()).unwrap().get_idl().unwrap();
    let mut idl = serde_json::to_value(&root).unwrap();
    let docs = DocComments::read(&crate_dir().join("src"));
    let program = &mut idl["program"];
    program["docs"] = json!(PROGRAM_DOCS);
    for account in program["accounts"].as_array_mut().unwrap() {
        let name = account["name"].as_str().unwrap().to_string();
        docs.apply(account, &name);
        docs.apply_fields(&mut account["data"], &name);
        let fields = account["data"]["fields"].as_array_mut().unwrap();
        fields[0]["docs"] = json!(["Account type: the first header byte (accountType)."]);
        fields[1]["docs"] = json!(["Layout version: the second header byte."]);
    }
    for pda in program["pdas"].as_array_mut().unwrap() {
        let name = pda["name"].as_str().unwrap().to_string();
        docs.apply(pda, &name);
    }
    for defined in program["definedTypes"].as_array_mut().unwrap() {
        let name = defined["name"].as_str().unwrap().to_string();
        docs.apply(defined, &name);
        docs.apply_fields(&mut defined["type"], &name);
    }
    for instruction in program["instructions"].as_array_mut().unwrap() {
        let key = format!(
            "dropPinInstruction.{}",
            instruction["name"].as_str().unwrap()
        );
        docs.apply(instruction, &key);
        for argument in instruction["arguments"].as_array_mut().unwrap() {
            let name = argument["name"].as_str().unwrap();
            docs.apply(argument, &format!("{key}.{name}"));
        }
    }
    for error in program["errors"].as_array_mut().unwrap() {
        let key = format!("dropPinError.{}", error["name"].as_str().unwrap());
        docs.apply(error, &key);
    }
    // The docs must leave a valid Codama tree.
    serde_json::from_value::<codama::RootNode>(idl.clone()).expect("a valid Codama root node");
    serde_json::to_string_pretty(&idl).unwrap() + "\n"
}

#[test]
fn the_checked_in_idl_is_the_one_the_code_generates() {
    let generated = &*GENERATED;
    if std::env::var_os("DROPPIN_WRITE_IDL").is_some() {
        std::fs::write(idl_path(), generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(idl_path()).unwrap_or_default();
    assert!(
        checked_in == *generated,
        "idl/droppin.json differs from the code; regenerate it with \
         DROPPIN_WRITE_IDL=1 cargo test -p droppin-interface --test idl"
    );
}

#[test]
fn every_instruction_account_and_error_is_documented() {
    let idl: Value = serde_json::from_str(&GENERATED).unwrap();
    let program = &idl["program"];
    assert_eq!(program["instructions"].as_array().unwrap().len(), 32);
    assert_eq!(program["accounts"].as_array().unwrap().len(), 12);
    for kind in ["instructions", "accounts", "errors", "pdas", "definedTypes"] {
        for node in program[kind].as_array().unwrap() {
            assert!(
                node["docs"].as_array().is_some_and(|docs| !docs.is_empty()),
                "{kind} {} has no docs",
                node["name"]
            );
        }
    }
}

#[test]
fn instruction_discriminators_and_error_codes_match_the_code() {
    let idl: Value = serde_json::from_str(&GENERATED).unwrap();
    let program = &idl["program"];
    for (tag, instruction) in program["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let name = droppin_interface::instruction::DropPinInstruction::NAMES[tag];
        assert_eq!(
            instruction["name"],
            CamelCaseString::from(name).to_string(),
            "instruction {tag}"
        );
        assert_eq!(instruction["arguments"][0]["defaultValue"]["number"], tag);
    }
    for error in program["errors"].as_array().unwrap() {
        let code = error["code"].as_u64().unwrap() as u32;
        let known = droppin_interface::DropPinError::from_code(code).unwrap();
        assert_eq!(error["message"], known.to_string());
    }
}
