// ObjectSource over a directory of Kubernetes-style YAML/JSON files (local mode). The directory is
// read at start and again whenever something in it changes (fs.watch, debounced; optional
// polling for file systems without change events). Files are parsed one by one: a bad document is
// reported (callback, metric, log) and skipped, and every other object keeps serving. A file's
// objects are exactly what its current content yields, so a fix or a deletion shows at once.
import { watch as watchFs, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { Counter, Gauge, Registry } from 'prom-client';
import { linkedAbortController, sleep } from '../async/index.js';
import { silentLogger, type Logger } from '../logging/index.js';
import { counterOn, gaugeOn } from '../metrics/index.js';
import {
  kindKey,
  knownResourceKinds,
  objectKey,
  type KubeObject,
  type ResourceKind,
} from '../resources/index.js';
import { ObjectStore, type ObjectSnapshot } from '../store/index.js';
import { ManifestError } from './manifest-error.js';
import { formatTimestamp, parseManifests, type ParsedObject } from './manifest-parser.js';
import { firstOf, type ObjectSource, type WatchKindOptions } from './object-source.js';

export interface DirectoryObjectSourceOptions {
  /** The directory to read (recursively). */
  dir: string;
  /** Stops watching the directory (as does `close()`). */
  signal?: AbortSignal;
  /** Kinds accepted besides the built-in ones (CoreKinds and MeshKinds). */
  kinds?: readonly ResourceKind[];
  /** Namespace for namespaced objects without one. Default `default`. */
  defaultNamespace?: string;
  /** Called once per problem each time a file is (re)read with problems. */
  onError?: (error: ManifestError) => void;
  logger?: Logger;
  registry?: Registry;
  /** Quiet time after a change before rereading. Default 50 ms. */
  debounceMs?: number;
  /** Also rescan on this interval (0: only on change events). Default 0. */
  pollIntervalMs?: number;
  /** File name endings that are read. Default .yaml, .yml, .json. */
  extensions?: readonly string[];
}

interface FileState {
  /** What stat said last time: unchanged means the content is too. */
  stamp: string;
  content: string;
  objects: ParsedObject[];
  errors: ManifestError[];
}

interface SourceMetrics {
  errors: Counter<'reason'>;
  invalid: Gauge;
  objects: Gauge<'kind'>;
  rescans: Counter;
}

function createMetrics(registry: Registry): SourceMetrics {
  return {
    errors: counterOn(
      registry,
      'tsmesh_local_manifest_errors_total',
      'Manifest documents rejected when read, by cause.',
      ['reason'],
    ),
    invalid: gaugeOn(
      registry,
      'tsmesh_local_manifest_invalid_documents',
      'Manifest documents currently skipped as invalid.',
      [],
    ),
    objects: gaugeOn(
      registry,
      'tsmesh_local_source_objects',
      'Objects currently served from the manifest directory.',
      ['kind'],
    ),
    rescans: counterOn(
      registry,
      'tsmesh_local_manifest_rescans_total',
      'Times the manifest directory was reread.',
      [],
    ),
  };
}

export class DirectoryObjectSource implements ObjectSource {
  readonly dir: string;
  readonly #options: DirectoryObjectSourceOptions;
  readonly #kinds: ResourceKind[];
  readonly #logger: Logger;
  readonly #metrics: SourceMetrics | undefined;
  readonly #controller: AbortController & { dispose(): void };
  readonly #files = new Map<string, FileState>();
  readonly #stores = new Map<string, ObjectStore>();
  /** JSON of each served object by kind and key, to publish only kinds that changed. */
  readonly #served = new Map<string, Map<string, string>>();
  /**
   * Per object (kind + namespace/name): when it was first seen (its creationTimestamp, stable
   * across edits, as in a cluster) and its content and resourceVersion, which changes only when
   * its content does.
   */
  readonly #history = new Map<string, { created: string; json: string; resourceVersion: string }>();
  #resourceVersion = 0;
  #duplicates: ManifestError[] = [];
  #watcher: FSWatcher | undefined;
  #scanning: Promise<void> | undefined;
  #rescanRequested = false;
  #debounce: NodeJS.Timeout | undefined;
  #started = false;
  #scannedOnce = false;
  #firstScan: Promise<void> | undefined;
  #poller: Promise<void> | undefined;

  constructor(options: DirectoryObjectSourceOptions) {
    this.dir = options.dir;
    this.#options = options;
    this.#kinds = [...knownResourceKinds(), ...(options.kinds ?? [])];
    this.#logger = options.logger ?? silentLogger;
    this.#metrics = options.registry ? createMetrics(options.registry) : undefined;
    this.#controller = linkedAbortController(options.signal);
  }

  /** Reads the directory and starts watching it. Idempotent; resolves after the first read. */
  start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      this.#firstScan = this.#startWatching();
    }
    return this.#firstScan!;
  }

  async #startWatching(): Promise<void> {
    const st = await stat(this.dir).catch((err: unknown) => {
      throw new MeshError(
        MeshErrorCode.Config,
        `cannot read the manifest directory: ${(err as Error).message}`,
        {
          where: this.dir,
          hint: 'create it or pass an existing directory',
          cause: err,
        },
      );
    });
    if (!st.isDirectory()) throw new MeshError(MeshErrorCode.Config, 'not a directory', { where: this.dir });
    const signal = this.#controller.signal;
    try {
      this.#watcher = watchFs(this.dir, { recursive: true, signal }, () => this.#schedule());
      this.#watcher.on('error', (err) => {
        if (signal.aborted) return;
        this.#logger.warn(
          { dir: this.dir, err: err.message },
          'watching the manifest directory failed; polling every second',
        );
        this.#startPolling(1000);
      });
    } catch (err) {
      this.#logger.warn(
        { dir: this.dir, err: (err as Error).message },
        'cannot watch the manifest directory; polling every second',
      );
      this.#startPolling(1000);
    }
    if (this.#options.pollIntervalMs) this.#startPolling(this.#options.pollIntervalMs);
    await this.rescan();
  }

  #startPolling(intervalMs: number): void {
    if (this.#poller) return;
    const signal = this.#controller.signal;
    this.#poller = (async () => {
      while (await sleep(intervalMs, signal)) await this.rescan();
    })();
  }

  #schedule(): void {
    if (this.#controller.signal.aborted) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.rescan(), this.#options.debounceMs ?? 50);
  }

  /** Rereads changed files now (serialised: a request during a scan runs one more scan after it). */
  rescan(): Promise<void> {
    if (this.#scanning) {
      this.#rescanRequested = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      try {
        do {
          this.#rescanRequested = false;
          await this.#scan();
        } while (this.#rescanRequested && !this.#controller.signal.aborted);
      } finally {
        this.#scanning = undefined;
      }
    })();
    return this.#scanning;
  }

  /** Problems of the current files (each skipped document once). */
  errors(): readonly ManifestError[] {
    const out: ManifestError[] = [];
    for (const state of this.#files.values()) out.push(...state.errors);
    out.push(...this.#duplicates);
    return out;
  }

  async #listFiles(dir: string, out: string[]): Promise<void> {
    const extensions = this.#options.extensions ?? ['.yaml', '.yml', '.json'];
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      // The directory may vanish between a change event and this read.
      this.#logger.warn({ dir, err: (err as Error).message }, 'cannot list manifest directory');
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // editors' swap and backup files, .git
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await this.#listFiles(path, out);
      else if (entry.isFile() && extensions.includes(extname(entry.name).toLowerCase())) out.push(path);
    }
  }

  #report(error: ManifestError): void {
    this.#metrics?.errors.inc({ reason: error.reason });
    this.#logger.warn(
      {
        file: error.file,
        document: error.document,
        line: error.line,
        field: error.field,
        reason: error.reason,
      },
      error.describe(),
    );
    try {
      this.#options.onError?.(error);
    } catch (err) {
      this.#logger.error({ err: String(err) }, 'onError callback threw');
    }
  }

  async #scan(): Promise<void> {
    const paths: string[] = [];
    await this.#listFiles(this.dir, paths);
    paths.sort();
    const seen = new Set<string>();
    for (const path of paths) {
      seen.add(path);
      const name = relative(this.dir, path).split(sep).join('/');
      let st;
      try {
        st = await stat(path);
      } catch {
        continue; // removed meanwhile; the next event rescans
      }
      const previous = this.#files.get(path);
      // Inode and ctime as well as mtime and size: a file renamed over the old one (an editor's
      // save, `mv` of a backup) can carry an old mtime and the same size, but never the same
      // inode and ctime.
      const stamp = `${st.ino}:${st.ctimeMs}:${st.mtimeMs}:${st.size}`;
      if (previous && previous.stamp === stamp) continue;
      let content: string;
      try {
        content = await readFile(path, 'utf8');
      } catch (err) {
        const error = new ManifestError(`cannot read: ${(err as Error).message}`, {
          reason: 'read_failed',
          file: name,
          document: 0,
          cause: err,
        });
        this.#files.set(path, {
          stamp,
          content: '',
          objects: [],
          errors: [error],
        });
        this.#report(error);
        continue;
      }
      if (previous && previous.content === content) {
        previous.stamp = stamp;
        continue;
      }
      const parsed = parseManifests(content, name, {
        kinds: this.#kinds,
        defaultNamespace: this.#options.defaultNamespace,
      });
      this.#files.set(path, {
        stamp,
        content,
        objects: parsed.objects,
        errors: parsed.errors,
      });
      for (const error of parsed.errors) this.#report(error);
      for (const warning of parsed.warnings) {
        this.#logger.warn(
          { file: warning.file, document: warning.document, line: warning.line, field: warning.field },
          warning.describe(),
        );
      }
      this.#logger.debug(
        { file: name, objects: parsed.objects.length, errors: parsed.errors.length },
        'manifest file read',
      );
    }
    for (const path of [...this.#files.keys()]) {
      if (!seen.has(path)) {
        this.#files.delete(path);
        this.#logger.debug({ file: relative(this.dir, path) }, 'manifest file removed');
      }
    }
    this.#metrics?.rescans.inc();
    this.#rebuild();
  }

  #rebuild(): void {
    // Files in name order; the first definition of kind/namespace/name wins.
    const byKind = new Map<string, Map<string, ParsedObject>>();
    const duplicates: ManifestError[] = [];
    for (const path of [...this.#files.keys()].sort()) {
      for (const parsed of this.#files.get(path)!.objects) {
        const key = kindKey(parsed.kind);
        let objects = byKind.get(key);
        if (!objects) byKind.set(key, (objects = new Map()));
        const id = objectKey(parsed.object);
        const first = objects.get(id);
        if (first) {
          duplicates.push(
            new ManifestError(
              `${parsed.kind.kind} ${id} is already defined in ${first.file}, document ${first.document} (line ${first.line}); this one is ignored`,
              {
                reason: 'duplicate',
                file: parsed.file,
                document: parsed.document,
                line: parsed.line,
                field: 'metadata.name',
              },
            ),
          );
          continue;
        }
        objects.set(id, parsed);
      }
    }
    const known = new Set(this.#duplicates.map((d) => d.describe()));
    for (const dup of duplicates) if (!known.has(dup.describe())) this.#report(dup);
    this.#duplicates = duplicates;
    this.#metrics?.invalid.set(this.errors().length);

    const now = formatTimestamp(new Date());
    const kinds = new Set([...byKind.keys(), ...this.#stores.keys(), ...this.#served.keys()]);
    for (const key of kinds) {
      const served = new Map<string, KubeObject>();
      for (const [id, parsed] of byKind.get(key) ?? [])
        served.set(id, this.#versioned(key, id, parsed.object, now));
      const serialized = new Map([...served].map(([id, object]) => [id, JSON.stringify(object)]));
      const before = this.#served.get(key);
      const changed =
        !before ||
        before.size !== serialized.size ||
        [...serialized].some(([id, json]) => before.get(id) !== json);
      const store = this.#stores.get(key);
      if (!changed && store?.synced) continue;
      this.#served.set(key, serialized);
      if (store) {
        store.replaceAll(served.values(), String(this.#resourceVersion));
        store.publish();
      }
      this.#metrics?.objects.set({ kind: key }, served.size);
    }
    // Forget objects that are gone: one that comes back is a new object (new creationTimestamp).
    const present = new Set(
      [...byKind].flatMap(([key, objects]) => [...objects.keys()].map((id) => `${key}/${id}`)),
    );
    for (const historyKey of this.#history.keys())
      if (!present.has(historyKey)) this.#history.delete(historyKey);
    this.#scannedOnce = true;
  }

  /** A reader's copy of a parsed object, with the server-set fields a cluster would give it. */
  #versioned(kind: string, id: string, parsed: KubeObject, now: string): KubeObject {
    const object = structuredClone(parsed);
    const meta = (object.metadata ??= {});
    const historyKey = `${kind}/${id}`;
    const json = JSON.stringify(object);
    let entry = this.#history.get(historyKey);
    if (!entry) {
      entry = {
        created: meta.creationTimestamp ?? now,
        json,
        resourceVersion: String(++this.#resourceVersion),
      };
      this.#history.set(historyKey, entry);
    } else if (entry.json !== json) {
      entry.json = json;
      entry.resourceVersion = String(++this.#resourceVersion);
    }
    meta.creationTimestamp ??= entry.created;
    meta.resourceVersion ??= entry.resourceVersion;
    return object;
  }

  #store(kind: ResourceKind): ObjectStore {
    if (this.#controller.signal.aborted)
      throw new MeshError(MeshErrorCode.Aborted, 'the object source is closed');
    const key = kindKey(kind);
    let store = this.#stores.get(key);
    if (!store) {
      store = new ObjectStore(kind);
      this.#stores.set(key, store);
      // After the first read, fill it now; before, the first read will.
      if (this.#scannedOnce) this.#rebuild();
    }
    this.start().catch((err: unknown) => {
      this.#logger.error(
        { dir: this.dir, err: MeshError.is(err) ? err.describe() : String(err) },
        'manifest directory unavailable',
      );
    });
    return store;
  }

  watch<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options: WatchKindOptions = {},
  ): AsyncIterable<ObjectSnapshot<T>> {
    return (this.#store(kind) as unknown as ObjectStore<T>).subscribe(options.signal);
  }

  async snapshot<T extends KubeObject = KubeObject>(
    kind: ResourceKind,
    options: WatchKindOptions = {},
  ): Promise<ObjectSnapshot<T>> {
    const store = this.#store(kind) as unknown as ObjectStore<T>;
    await this.start();
    return (await firstOf(store.subscribe(options.signal))) ?? store.snapshot();
  }

  async close(): Promise<void> {
    this.#controller.abort(new MeshError(MeshErrorCode.Aborted, 'object source closed'));
    this.#controller.dispose();
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    for (const store of this.#stores.values()) store.close();
    await this.#poller;
    await this.#scanning;
  }
}

export function createDirectoryObjectSource(options: DirectoryObjectSourceOptions): DirectoryObjectSource {
  return new DirectoryObjectSource(options);
}
