package state

import (
	"errors"
	"testing"
)

func TestUpdateIsAtomicAndDurable(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := s.Source("zendesk")
	if err := src.View(func(tx *Tx) error {
		if tx.Get(KeyCursor) != nil || tx.Records().Get("1") != nil {
			t.Error("fresh source has state")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := src.Update(func(tx *Tx) error {
		if err := tx.Records().Put("1", []byte("a")); err != nil {
			return err
		}
		return tx.Put(KeyCursor, []byte("c1"))
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := src.Update(func(tx *Tx) error {
		_ = tx.Records().Put("2", []byte("b"))
		_ = tx.Put(KeyCursor, []byte("c2"))
		if string(tx.Records().Get("2")) != "b" {
			t.Error("a transaction does not read its own write")
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("a second writer opened the locked store")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.Source("zendesk").View(func(tx *Tx) error {
		if got := string(tx.Get(KeyCursor)); got != "c1" {
			t.Errorf("cursor = %q, want c1 (rolled-back write leaked)", got)
		}
		if tx.Records().Get("2") != nil || tx.Records().Len() != 1 {
			t.Errorf("records = %d, want only the committed one", tx.Records().Len())
		}
		return nil
	})
	_ = s.Source("other").View(func(tx *Tx) error {
		if tx.Records().Len() != 0 {
			t.Error("sources share records")
		}
		return nil
	})
}
