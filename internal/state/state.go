// Package state is cx-exporter's persistent state store: one bbolt file in
// CX_STATE_DIR holding, per source, its watermark, its sync cursor, the
// compact per-record states and the engine's aggregates. Everything one page
// of upstream data changes is committed in one transaction, so a crash at
// any point leaves the store at the end of the last whole page.
package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Keys of a source's metadata.
const (
	KeyWatermark  = "watermark"
	KeyCursor     = "cursor"
	KeyAggregates = "aggregates"
	// KeyBackfilled is set once the source's first sync has reached the
	// end of its upstream stream: its first backfill is complete.
	KeyBackfilled = "backfilled"
)

// FileName is the state file's name in CX_STATE_DIR.
const FileName = "state.db"

var recordsBucket = []byte("records")

// Store is the open state file.
type Store struct {
	db *bolt.DB

	mu       sync.Mutex
	inFlight map[string]time.Time     // source → start of its write transaction in progress
	commits  map[string]uint64        // source → write transactions committed
	slowest  map[string]time.Duration // source → longest write since SlowestCommit
	hook     func(source string)      // see SetCommitHook
}

// ErrCorrupt is wrapped by Open's error when the state file exists but is
// not a readable state store (empty, truncated or overwritten).
var ErrCorrupt = errors.New("state file is corrupt")

// Open opens (creating if needed) dir/state.db. It fails fast when another
// process holds the file: the store is single-writer. A file that exists
// but is empty, truncated or otherwise unreadable is refused with an error
// wrapping ErrCorrupt that names the file and the recovery: it is never
// silently started over, and never a panic.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := Check(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	db, err := openBolt(path, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("state store %s is locked by another process", path)
	}
	if err != nil {
		return nil, corrupt(path, err)
	}
	return &Store{db: db, inFlight: map[string]time.Time{}, commits: map[string]uint64{}, slowest: map[string]time.Duration{}}, nil
}

// corrupt wraps err as ErrCorrupt, naming the file and the recovery.
func corrupt(path string, err error) error {
	return fmt.Errorf("%w: %s: %v; move it aside (mv %s %s.corrupt) and start again to begin a fresh state "+
		"(new watermark, counters from 0), or restore it from a backup; see docs/runbooks.md#corrupt-state",
		ErrCorrupt, path, err, path, path)
}

// openBolt is bolt.Open, with a panic inside it (bbolt panics on some
// truncated files) turned into an error.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("unreadable: %v", r)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// Check verifies the state file at path without taking the writer's lock
// for long: it must be non-empty, open as a bbolt file, and pass bbolt's
// consistency check. It returns an error wrapping os.ErrNotExist when there
// is no file, and one wrapping ErrCorrupt when the file is unusable.
func Check(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return err
		}
		return fmt.Errorf("state store %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return corrupt(path, errors.New("the file is empty (0 bytes)"))
	}
	// Two meta pages at least: bbolt reads the page size from the first.
	if fi.Size() < 2*1024 {
		return corrupt(path, fmt.Errorf("the file is truncated (%d bytes)", fi.Size()))
	}
	if err := checkHighWater(path, fi.Size()); err != nil {
		return corrupt(path, err)
	}
	db, err := openBolt(path, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil // held by a running exporter: Open reports it
	}
	if err != nil {
		return corrupt(path, err)
	}
	defer db.Close()
	return checkConsistent(path, db)
}

// Layout of a bbolt meta page (go.etcd.io/bbolt's page and meta structs):
// a 16-byte page header, then magic, version, page size and flags (4
// bytes each), the root bucket (16), the freelist page id (8) and the
// high-water page id (8).
const (
	boltMagic         = 0xED0CDAED
	metaMagicOff      = 16
	metaPageSizeOff   = 24
	metaHighWaterOff  = 56
	metaPageMinLength = metaHighWaterOff + 8
)

// checkHighWater refuses a file shorter than its meta pages say: bbolt
// maps the file and would read the missing pages, a memory fault that
// kills the process (it is not a panic that recover can catch). Each meta
// page with bbolt's magic must have its high-water mark within the file.
func checkHighWater(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, metaPageMinLength)
	if _, err := f.ReadAt(head, 0); err != nil {
		return fmt.Errorf("reading the first meta page: %w", err)
	}
	valid := 0
	pageSize := int64(binary.LittleEndian.Uint32(head[metaPageSizeOff:]))
	for i := int64(0); i < 2; i++ {
		if i == 1 {
			if pageSize < 512 || pageSize > 1<<20 {
				break
			}
			if _, err := f.ReadAt(head, pageSize); err != nil {
				return fmt.Errorf("reading the second meta page: %w", err)
			}
		}
		if binary.LittleEndian.Uint32(head[metaMagicOff:]) != boltMagic {
			continue
		}
		valid++
		ps := int64(binary.LittleEndian.Uint32(head[metaPageSizeOff:]))
		hw := int64(binary.LittleEndian.Uint64(head[metaHighWaterOff:]))
		if ps <= 0 || hw < 0 || hw > size/ps {
			return fmt.Errorf("the file is truncated: %d bytes, its meta page %d says %d pages of %d bytes", size, i, hw, ps)
		}
	}
	if valid == 0 {
		return errors.New("not a state file: no valid meta page")
	}
	return nil
}

// checkConsistent runs bbolt's page check: a file cut short or overwritten
// in the middle shows as unreachable, freed or out-of-range pages.
func checkConsistent(path string, db *bolt.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corrupt(path, fmt.Errorf("unreadable: %v", r))
		}
	}()
	return db.View(func(tx *bolt.Tx) error {
		var errs []string
		for e := range tx.Check() {
			if len(errs) < 3 {
				errs = append(errs, e.Error())
			}
		}
		if len(errs) > 0 {
			return corrupt(path, errors.New(strings.Join(errs, "; ")))
		}
		return nil
	})
}

// CheckFile runs Check and writes a one-line verdict to w; it is the
// `cx-exporter state check` command.
func CheckFile(w io.Writer, dir string) error {
	path := filepath.Join(dir, FileName)
	err := Check(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(w, "%s: no state file; the exporter will start a fresh one\n", path)
		return nil
	case err != nil:
		return err
	}
	fmt.Fprintf(w, "%s: ok\n", path)
	return nil
}

// SetCommitHook sets fn to run inside every write transaction, just before
// it commits, with the source's name. Tests use it to stand for a slow or
// hung disk.
func (s *Store) SetCommitHook(fn func(source string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// CommitInFlight returns how long the source's write transaction in
// progress has been running, waiting for bbolt's writer lock included;
// 0 when none is.
func (s *Store) CommitInFlight(source string, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.inFlight[source]; ok {
		return now.Sub(t)
	}
	return 0
}

// SlowestCommit returns the longest write transaction of the source
// since the previous call (waiting for bbolt's writer lock included), and
// starts over.
func (s *Store) SlowestCommit(source string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.slowest[source]
	delete(s.slowest, source)
	return d
}

// Commits returns how many write transactions of the source have
// committed since the store was opened.
func (s *Store) Commits(source string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits[source]
}

// Close flushes and closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Source returns the state of the named source.
func (s *Store) Source(name string) *Source {
	return &Source{db: s.db, store: s, source: name, name: []byte("source/" + name)}
}

// Source is one source's part of the store.
type Source struct {
	db     *bolt.DB
	store  *Store // nil in a Source not made by Store.Source
	source string
	name   []byte
}

// Tx is a transaction on one source's state.
type Tx struct {
	b, records *bolt.Bucket
}

// Get returns the metadata value of key, nil when unset. The slice is only
// valid inside the transaction.
func (tx *Tx) Get(key string) []byte {
	if tx.b == nil { // a source with no state yet, in a read-only transaction
		return nil
	}
	return tx.b.Get([]byte(key))
}

// Put sets a metadata value.
func (tx *Tx) Put(key string, v []byte) error { return tx.b.Put([]byte(key), v) }

// Records returns the per-record states.
func (tx *Tx) Records() Records { return Records{tx.records} }

// Records are the per-record states of a source within a transaction.
type Records struct{ b *bolt.Bucket }

// Get returns the stored state of id, nil when none.
func (r Records) Get(id string) []byte {
	if r.b == nil {
		return nil
	}
	return r.b.Get([]byte(id))
}

// Put stores the state of id.
func (r Records) Put(id string, v []byte) error { return r.b.Put([]byte(id), v) }

// Delete forgets id.
func (r Records) Delete(id string) error { return r.b.Delete([]byte(id)) }

// ForEach calls fn for every stored record state.
func (r Records) ForEach(fn func(id string, v []byte) error) error {
	if r.b == nil {
		return nil
	}
	return r.b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
}

// Len counts the stored records.
func (r Records) Len() int {
	if r.b == nil {
		return 0
	}
	return r.b.Stats().KeyN
}

// View runs fn in a read-only transaction.
func (s *Source) View(fn func(tx *Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error {
		tx := &Tx{b: btx.Bucket(s.name)}
		if tx.b != nil {
			tx.records = tx.b.Bucket(recordsBucket)
		}
		return fn(tx)
	})
}

// Update runs fn in one read-write transaction, committed when fn returns
// nil and rolled back otherwise.
func (s *Source) Update(fn func(tx *Tx) error) error {
	if st := s.store; st != nil {
		start := time.Now()
		st.mu.Lock()
		st.inFlight[s.source] = start
		hook := st.hook
		st.mu.Unlock()
		defer func() {
			st.mu.Lock()
			delete(st.inFlight, s.source)
			st.slowest[s.source] = max(st.slowest[s.source], time.Since(start))
			st.mu.Unlock()
		}()
		inner := fn
		fn = func(tx *Tx) error {
			if err := inner(tx); err != nil {
				return err
			}
			if hook != nil {
				hook(s.source)
			}
			return nil
		}
	}
	err := s.update(fn)
	if err == nil && s.store != nil {
		s.store.mu.Lock()
		s.store.commits[s.source]++
		s.store.mu.Unlock()
	}
	return err
}

func (s *Source) update(fn func(tx *Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error {
		b, err := btx.CreateBucketIfNotExists(s.name)
		if err != nil {
			return err
		}
		recs, err := b.CreateBucketIfNotExists(recordsBucket)
		if err != nil {
			return err
		}
		return fn(&Tx{b: b, records: recs})
	})
}

// Reset forgets everything stored for the source.
func (s *Source) Reset() error {
	return s.db.Update(func(btx *bolt.Tx) error {
		if btx.Bucket(s.name) == nil {
			return nil
		}
		return btx.DeleteBucket(s.name)
	})
}

// CommitPage is every collector's exactly-once unit: apply folds one page
// of upstream data into the record states and returns the engine's
// aggregates, which are stored with the page's cursor, all in one
// transaction. Nothing of the page is stored if any step fails.
func (s *Source) CommitPage(cursor []byte, apply func(tx *Tx) (aggregates []byte, err error)) error {
	return s.Update(func(tx *Tx) error {
		agg, err := apply(tx)
		if err != nil {
			return err
		}
		if err := tx.Put(KeyAggregates, agg); err != nil {
			return err
		}
		return tx.Put(KeyCursor, cursor)
	})
}
