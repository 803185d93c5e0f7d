// Verifies, in the browser and with WebCrypto only, what the audit pages show:
// - the leaf hashes to its leaf hash (RFC 9162: SHA-256(0x00 || leaf));
// - the inclusion proof leads from that leaf to the checkpoint's root (RFC 9162 2.1.3.2);
// - a consistency proof joins two roots (RFC 9162 2.1.4.2);
// - the checkpoint is a signed note (c2sp.org/signed-note, tlog-checkpoint) whose Ed25519
//   signature verifies under the log key shown in the page (which the auditor may replace with
//   the key they trust).
// The server is trusted for nothing but the bytes: every comparison is made here.
"use strict";

const enc = new TextEncoder();

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(text) {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new Error("not hex: " + text.slice(0, 16));
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

function unb64(text) {
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

const leafHash = (leaf) => sha256(concat(new Uint8Array([0]), leaf));
const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const odd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

function powerOfTwo(n) {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

// RFC 9162 2.1.3.2: the root an inclusion proof leads to (null when the proof is malformed).
async function rootFromInclusion(index, size, leaf, path) {
  if (index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!odd(fn)) { while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); } }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn); sn = half(sn);
  }
  return sn === 0 ? r : null;
}

// RFC 9162 2.1.4.2: whether a consistency proof joins firstRoot (size first) to secondRoot.
async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (first > second) return false;
  if (first === second) return proof.length === 0 && same(firstRoot, secondRoot);
  let path = proof.slice();
  if (powerOfTwo(first)) path = [firstRoot, ...path];
  if (path.length === 0) return false;
  let fn = first - 1, sn = second - 1;
  while (odd(fn)) { fn = half(fn); sn = half(sn); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!odd(fn)) { while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); } }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn); sn = half(sn);
  }
  return sn === 0 && same(fr, firstRoot) && same(sr, secondRoot);
}

// c2sp.org/signed-note verifier key: <name>+<key ID hex>+base64(0x01 || Ed25519 key).
async function parseVkey(vkey) {
  // The name and key ID end at the first two '+'; the base64 key may hold more.
  const text = vkey.trim();
  const a = text.indexOf("+"), b = text.indexOf("+", a + 1);
  const [name, id, key] = [text.slice(0, a), text.slice(a + 1, b), text.slice(b + 1)];
  const raw = unb64(key || "");
  if (a < 1 || b < 0 || raw.length !== 33 || raw[0] !== 1) throw new Error("not an Ed25519 verifier key");
  const keyId = (await sha256(concat(enc.encode(name + "\n"), raw))).slice(0, 4);
  if (hex(keyId) !== id) throw new Error("the key ID does not match the key");
  return { name, keyId, publicKey: raw.slice(1) };
}

// Verifies the note's signature by `vkey`; returns the checkpoint it signs.
async function verifyCheckpoint(note, vkey) {
  const split = note.indexOf("\n\n");
  if (split < 0) throw new Error("not a signed note");
  const text = note.slice(0, split + 1);
  const key = await parseVkey(vkey);
  const cryptoKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
  let verified = false;
  for (const line of note.slice(split + 2).split("\n")) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== key.name) continue;
    const sig = unb64(m[2]);
    if (sig.length !== 68 || !same(sig.slice(0, 4), key.keyId)) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, sig.slice(4), enc.encode(text))) verified = true;
  }
  if (!verified) throw new Error("no valid signature by " + key.name);
  const [origin, size, root] = text.split("\n");
  return { origin, size: Number(size), root: unb64(root) };
}

function show(box, checks) {
  box.replaceChildren();
  const ok = checks.every((c) => c.ok);
  const head = document.createElement("p");
  head.className = ok ? "ok" : "bad";
  head.id = "verification-result";
  head.textContent = ok ? "✔ Verified / 验证通过" : "✘ Verification failed / 验证失败";
  box.append(head);
  const list = document.createElement("ul");
  for (const c of checks) {
    const item = document.createElement("li");
    item.className = c.ok ? "ok" : "bad";
    item.textContent = (c.ok ? "✔ " : "✘ ") + c.what;
    list.append(item);
  }
  box.append(list);
}

async function verifyEntry() {
  const data = JSON.parse(document.getElementById("proof-data").textContent);
  const box = document.getElementById("verification");
  const vkey = document.getElementById("vkey").value;
  const checks = [];
  try {
    const lh = await leafHash(enc.encode(data.leaf));
    checks.push({ ok: hex(lh) === data.leaf_hash, what: "SHA-256(0x00 || leaf) = " + hex(lh) });
    const cp = await verifyCheckpoint(data.checkpoint, vkey);
    checks.push({ ok: true, what: "Ed25519 signature of the checkpoint by " + vkey.split("+")[0] });
    checks.push({ ok: cp.size === data.tree_size, what: "checkpoint tree size " + cp.size });
    const root = await rootFromInclusion(data.leaf_index, data.tree_size, lh, data.audit_path.map(unhex));
    checks.push({
      ok: root !== null && same(root, cp.root),
      what: "inclusion proof leads to the checkpoint's root " + hex(cp.root),
    });
  } catch (err) {
    checks.push({ ok: false, what: String(err.message || err) });
  }
  show(box, checks);
}

async function verifyConsistencyPage() {
  const data = JSON.parse(document.getElementById("consistency-data").textContent);
  const box = document.getElementById("verification");
  const checks = [];
  try {
    let secondRoot = unhex(data.second_root);
    if (data.second_note) {
      const cp = await verifyCheckpoint(data.second_note, document.getElementById("vkey").value);
      checks.push({ ok: cp.size === data.second, what: "signed checkpoint of size " + cp.size });
      secondRoot = cp.root;
    }
    if (!data.first_root) throw new Error("give the root hash of the first size (from a checkpoint you kept)");
    const ok = await verifyConsistency(
      data.first, data.second, unhex(data.first_root), secondRoot, data.consistency_path.map(unhex));
    checks.push({ ok, what: "consistency proof from size " + data.first + " to " + data.second });
  } catch (err) {
    checks.push({ ok: false, what: String(err.message || err) });
  }
  show(box, checks);
}

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("verify");
  if (button) {
    const label = button.textContent;
    button.addEventListener("click", async () => {
      button.textContent = button.dataset.verifying;
      try { await verifyEntry(); } finally { button.textContent = label; }
    });
  }
  if (document.getElementById("consistency-data")) verifyConsistencyPage();
});
