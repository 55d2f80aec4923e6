package ipsettest

import (
	"errors"
	"fmt"

	"github.com/kproxy/kproxy/proxy/ipset"
)

// Errors the Fake returns, worded as the ipset tool words them.
var (
	ErrNoSet    = errors.New("the set with the given name does not exist")
	ErrSetExist = errors.New("set with the same name already exists")
	ErrInUse    = errors.New("set cannot be destroyed: it is in use by a kernel component")
)

// apply runs one operation and returns how to undo it (nil when nothing changed).
func (f *Fake) apply(op ipset.Op) (func(), error) {
	switch op.Kind {
	case ipset.OpCreate:
		return f.create(op.Set)
	case ipset.OpAdd, ipset.OpDel:
		return f.addDel(op)
	case ipset.OpFlush:
		return f.flush(op.Set.Name)
	case ipset.OpDestroy:
		return f.destroy(op.Set.Name)
	}
	return nil, fmt.Errorf("unknown operation %v", op.Kind)
}

func (f *Fake) create(s ipset.Set) (func(), error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s = s.Normalize()
	if old := f.sets[s.Name]; old != nil {
		if old.Set != s {
			return nil, fmt.Errorf("%w (as %s)", ErrSetExist, old.CreateOptions())
		}
		return nil, nil
	}
	f.sets[s.Name] = &set{Set: s, members: map[string]struct{}{}}
	return func() { delete(f.sets, s.Name) }, nil
}

func (f *Fake) addDel(op ipset.Op) (func(), error) {
	s := f.sets[op.Set.Name]
	if s == nil {
		return nil, ErrNoSet
	}
	entry, err := ipset.Canonical(s.Type, s.Family, op.Entry)
	if err != nil {
		return nil, err
	}
	_, had := s.members[entry]
	switch {
	case op.Kind == ipset.OpAdd && !had:
		if len(s.members) >= s.MaxElem && s.Type.Hash() {
			return nil, errors.New("hash is full, cannot add more elements")
		}
		s.members[entry] = struct{}{}
		return func() { delete(s.members, entry) }, nil
	case op.Kind == ipset.OpDel && had:
		delete(s.members, entry)
		return func() { s.members[entry] = struct{}{} }, nil
	}
	return nil, nil
}

func (f *Fake) flush(name string) (func(), error) {
	s := f.sets[name]
	if s == nil {
		return nil, ErrNoSet
	}
	old := s.members
	s.members = map[string]struct{}{}
	return func() { s.members = old }, nil
}

func (f *Fake) destroy(name string) (func(), error) {
	s := f.sets[name]
	if s == nil {
		return nil, ErrNoSet
	}
	if f.inUse != nil && f.inUse(name) {
		return nil, ErrInUse
	}
	delete(f.sets, name)
	return func() { f.sets[name] = s }, nil
}
