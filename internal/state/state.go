// Package state is cx-exporter's persistent state store: one bbolt file in
// CX_STATE_DIR holding, per source, its watermark, its sync cursor, the
// compact per-record states and the engine's aggregates. Everything one page
// of upstream data changes is committed in one transaction, so a crash at
// any point leaves the store at the end of the last whole page.
package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Keys of a source's metadata.
const (
	KeyWatermark  = "watermark"
	KeyCursor     = "cursor"
	KeyAggregates = "aggregates"
)

var recordsBucket = []byte("records")

// Store is the open state file.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) dir/state.db. It fails fast when another
// process holds the file: the store is single-writer.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	path := filepath.Join(dir, "state.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("state store %s is locked by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("state store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close flushes and closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Source returns the state of the named source.
func (s *Store) Source(name string) *Source {
	return &Source{db: s.db, name: []byte("source/" + name)}
}

// Source is one source's part of the store.
type Source struct {
	db   *bolt.DB
	name []byte
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
