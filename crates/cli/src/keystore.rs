//! The account keystore: named ed25519 keys in the home directory's `keys/` folder.
//!
//! # Format
//! One file per key, `<home>/keys/<name>.json`, owner-only (mode 0600 on Unix):
//!
//! ```json
//! {
//!   "name": "alice",
//!   "address": "<64 hex chars: the ed25519 public key, the account address>",
//!   "secret_key": "<64 hex chars: the 32-byte ed25519 secret key>"
//! }
//! ```
//!
//! `name` is 1 to 64 characters from `[A-Za-z0-9._-]` and equals the file stem. `address` is
//! redundant with `secret_key`; loading recomputes it and refuses a file where they disagree,
//! so a hand-edited or corrupt file is caught before it signs anything. Keys are not encrypted:
//! this keystore is for development networks. The devnet writes its funded dev accounts here
//! in this format ([`Keystore::save`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use counterweight_crypto::SigningKey;
use counterweight_types::Address;
use serde::{Deserialize, Serialize};

/// Longest key name, in characters.
const MAX_NAME_LEN: usize = 64;
/// Largest key file read, in bytes (a real one is under 300).
const MAX_FILE_BYTES: u64 = 4096;

/// The default home directory: `$COUNTERWEIGHT_HOME`, else `~/.counterweight`.
///
/// # Errors
/// When neither the variable nor a home directory is available.
pub fn default_home() -> anyhow::Result<PathBuf> {
    if let Some(home) = std::env::var_os("COUNTERWEIGHT_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    std::env::home_dir()
        .map(|home| home.join(".counterweight"))
        .context("no home directory: pass --home or set COUNTERWEIGHT_HOME")
}

/// One key file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// The key's name (the file stem).
    pub name: String,
    /// The account address, hex.
    pub address: String,
    /// The 32-byte secret key, hex.
    pub secret_key: String,
}

/// A key's public description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyEntry {
    /// The key's name.
    pub name: String,
    /// The account address.
    pub address: Address,
}

/// Named keys in one directory.
#[derive(Debug, Clone)]
pub struct Keystore {
    dir: PathBuf,
}

impl Keystore {
    /// The keystore of a home directory (`<home>/keys`); nothing is created yet.
    pub fn in_home(home: &Path) -> Self {
        Self {
            dir: home.join("keys"),
        }
    }

    /// The keystore directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Save `key` under `name`; refuses to overwrite an existing key.
    ///
    /// # Errors
    /// An invalid name, an existing key of that name, or an I/O error.
    pub fn save(&self, name: &str, key: &SigningKey) -> anyhow::Result<PathBuf> {
        check_name(name)?;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create keystore {}", self.dir.display()))?;
        let path = self.path(name);
        let file = KeyFile {
            name: name.to_owned(),
            address: key.address().to_hex(),
            secret_key: hex::encode(key.to_bytes()),
        };
        let mut text = serde_json::to_string_pretty(&file).context("cannot encode key file")?;
        text.push('\n');
        write_new_private(&path, text.as_bytes()).map_err(|err| {
            if err.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!("key `{name}` already exists in {}", self.dir.display())
            } else {
                anyhow::Error::new(err).context(format!("cannot write {}", path.display()))
            }
        })?;
        Ok(path)
    }

    /// Load the key named `name`.
    ///
    /// # Errors
    /// An invalid name, a missing key, or a corrupt file.
    pub fn load(&self, name: &str) -> anyhow::Result<SigningKey> {
        check_name(name)?;
        let path = self.path(name);
        if !path.is_file() {
            bail!("no key named `{name}` in {}", self.dir.display());
        }
        let (_, key) = read_key_file(&path)?;
        Ok(key)
    }

    /// All keys, sorted by name. Files that are not valid keys are reported as errors.
    ///
    /// # Errors
    /// An unreadable directory or a corrupt key file.
    pub fn list(&self) -> anyhow::Result<Vec<KeyEntry>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => {
                return Err(err).with_context(|| format!("cannot read {}", self.dir.display()));
            }
        };
        let mut keys = Vec::new();
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read {}", self.dir.display()))?
                .path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let (file, key) = read_key_file(&path)?;
            keys.push(KeyEntry {
                name: file.name,
                address: key.address(),
            });
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(keys)
    }

    /// Find a key's name by its address.
    ///
    /// # Errors
    /// As [`Keystore::list`].
    pub fn name_of(&self, address: &Address) -> anyhow::Result<Option<String>> {
        Ok(self
            .list()?
            .into_iter()
            .find(|entry| entry.address == *address)
            .map(|entry| entry.name))
    }
}

/// Parse a secret key written as 64 hex characters (optionally `0x`-prefixed).
///
/// # Errors
/// Anything but 32 bytes of hex.
pub fn parse_secret(text: &str) -> anyhow::Result<SigningKey> {
    let bytes = counterweight_rpc_api::hexutil::decode_array::<32>(text)
        .map_err(|_| anyhow::anyhow!("a secret key is 64 hex characters (32 bytes)"))?;
    Ok(SigningKey::from_bytes(bytes))
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        bail!(
            "invalid key name `{name}`: use 1 to {MAX_NAME_LEN} characters from [A-Za-z0-9._-], not starting with a dot"
        );
    }
    Ok(())
}

fn read_key_file(path: &Path) -> anyhow::Result<(KeyFile, SigningKey)> {
    let corrupt = || format!("corrupt key file {}", path.display());
    let metadata =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.len() > MAX_FILE_BYTES {
        bail!("{}: file is too large to be a key", corrupt());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: KeyFile = serde_json::from_str(&text).with_context(corrupt)?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if file.name != stem {
        bail!(
            "{}: name `{}` does not match the file name",
            corrupt(),
            file.name
        );
    }
    let key = parse_secret(&file.secret_key).with_context(corrupt)?;
    let address: Address = file
        .address
        .parse()
        .map_err(|_| anyhow::anyhow!("{}: address is not 32 bytes of hex", corrupt()))?;
    if address != key.address() {
        bail!("{}: address does not match the secret key", corrupt());
    }
    Ok((file, key))
}

/// Create `path` (failing if it exists) with owner-only permissions, then write `bytes`.
fn write_new_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_lists_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Keystore::in_home(dir.path());
        assert!(store.list().unwrap().is_empty());
        let alice = SigningKey::from_seed(1);
        let bob = SigningKey::from_seed(2);
        store.save("bob", &bob).unwrap();
        store.save("alice", &alice).unwrap();
        assert_eq!(store.load("alice").unwrap().address(), alice.address());
        let names: Vec<_> = store.list().unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(
            store.name_of(&bob.address()).unwrap().as_deref(),
            Some("bob")
        );
        let err = store.save("alice", &bob).unwrap_err();
        assert!(err.to_string().contains("already exists"));
        assert_eq!(store.load("alice").unwrap().address(), alice.address());
    }

    #[test]
    fn rejects_bad_names_and_corrupt_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Keystore::in_home(dir.path());
        let key = SigningKey::from_seed(3);
        for bad in ["", "../x", "a/b", ".hidden", &"x".repeat(65)] {
            assert!(store.save(bad, &key).is_err(), "{bad:?}");
        }
        assert!(
            store
                .load("missing")
                .unwrap_err()
                .to_string()
                .contains("no key named")
        );

        std::fs::create_dir_all(store.dir()).unwrap();
        std::fs::write(store.dir().join("junk.json"), "{not json").unwrap();
        assert!(
            store
                .load("junk")
                .unwrap_err()
                .to_string()
                .contains("corrupt key file")
        );

        let other = SigningKey::from_seed(4);
        let forged = KeyFile {
            name: "forged".into(),
            address: other.address().to_hex(),
            secret_key: hex::encode(key.to_bytes()),
        };
        std::fs::write(
            store.dir().join("forged.json"),
            serde_json::to_string(&forged).unwrap(),
        )
        .unwrap();
        let err = store.load("forged").unwrap_err();
        assert!(
            err.to_string().contains("does not match the secret key"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = Keystore::in_home(dir.path())
            .save("k", &SigningKey::from_seed(5))
            .unwrap();
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn parses_secrets_strictly() {
        let key = SigningKey::from_seed(6);
        let text = format!("0x{}", hex::encode(key.to_bytes()));
        assert_eq!(parse_secret(&text).unwrap().address(), key.address());
        assert!(parse_secret("abcd").is_err());
        assert!(parse_secret(&"zz".repeat(32)).is_err());
    }
}
