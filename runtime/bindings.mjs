// Local adapters for getPlatformProxy's R2/KV stubs (local-runtime.md §3).
//
// The stubs resolve every property remotely, so their constructor name is not "R2Bucket" and
// the SDK leaves them unwrapped (bytes and dict arguments then fail). These classes carry the
// names the SDK looks for, await the stub once per call and hand Python *local* objects, which
// also avoids a synchronous round trip per property read.

const OBJECT_FIELDS = [
  "key",
  "version",
  "size",
  "etag",
  "httpEtag",
  "uploaded",
  "httpMetadata",
  "customMetadata",
  "range",
  "checksums",
  "storageClass",
  "ssecKeyMd5",
];

export class R2Object {
  constructor(remote) {
    for (const field of OBJECT_FIELDS) this[field] = remote[field];
    if (this.uploaded && !(this.uploaded instanceof Date)) this.uploaded = new Date(this.uploaded);
  }

  writeHttpMetadata(headers) {
    const m = this.httpMetadata ?? {};
    const pairs = [
      ["content-type", m.contentType],
      ["content-language", m.contentLanguage],
      ["content-disposition", m.contentDisposition],
      ["content-encoding", m.contentEncoding],
      ["cache-control", m.cacheControl],
      ["expires", m.cacheExpiry instanceof Date ? m.cacheExpiry.toUTCString() : m.cacheExpiry],
    ];
    for (const [name, value] of pairs) if (value !== undefined && value !== null) headers.set(name, value);
  }
}

export class R2ObjectBody extends R2Object {
  #remote;
  #body;

  constructor(remote) {
    super(remote);
    this.#remote = remote;
  }

  // Reading `.body` on a miniflare object consumes it, so every reader goes through one
  // cached stream.
  get body() {
    this.#body ??= this.#remote.body;
    return this.#body;
  }

  get bodyUsed() {
    return this.#body ? this.#body.locked : false;
  }

  #response() {
    return new Response(this.body);
  }

  arrayBuffer() {
    return this.#response().arrayBuffer();
  }

  async bytes() {
    return new Uint8Array(await this.arrayBuffer());
  }

  text() {
    return this.#response().text();
  }

  json() {
    return this.#response().json();
  }

  blob() {
    return this.#response().blob();
  }
}

export class R2Bucket {
  #stub;

  constructor(stub) {
    this.#stub = stub;
  }

  async head(key) {
    const o = await this.#stub.head(key);
    return o ? new R2Object(o) : null;
  }

  async get(key, options) {
    const o = await this.#stub.get(key, options ?? undefined);
    if (!o) return null;
    return "body" in o ? new R2ObjectBody(o) : new R2Object(o);
  }

  async put(key, value, options) {
    const o = await this.#stub.put(key, value ?? null, options ?? undefined);
    return o ? new R2Object(o) : null;
  }

  delete(keys) {
    return this.#stub.delete(keys);
  }

  async list(options) {
    const r = await this.#stub.list(options ?? undefined);
    return {
      objects: r.objects.map((o) => new R2Object(o)),
      truncated: r.truncated,
      cursor: r.cursor,
      delimitedPrefixes: r.delimitedPrefixes ?? [],
    };
  }

  createMultipartUpload(key, options) {
    return this.#stub.createMultipartUpload(key, options ?? undefined);
  }

  resumeMultipartUpload(key, uploadId) {
    return this.#stub.resumeMultipartUpload(key, uploadId);
  }
}

export class KvNamespace {
  #stub;

  constructor(stub) {
    this.#stub = stub;
  }

  get(key, options) {
    return this.#stub.get(key, options ?? undefined);
  }

  getWithMetadata(key, options) {
    return this.#stub.getWithMetadata(key, options ?? undefined);
  }

  put(key, value, options) {
    return this.#stub.put(key, value, options ?? undefined);
  }

  delete(key) {
    return this.#stub.delete(key);
  }

  list(options) {
    return this.#stub.list(options ?? undefined);
  }
}
