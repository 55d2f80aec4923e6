package ipvsmode

import (
	"cmp"
	"fmt"
	"slices"
)

// applySets writes the set changes in one batch: the creation of every set (on
// full syncs, so sets deleted behind kproxy's back come back), then the entries to
// add, then those to delete.
func (s *syncer) applySets(create bool, adds, dels []setEntry) error {
	s.batch.Reset()
	if create {
		for id := range numSets {
			s.batch.Create(s.c.sets[id])
		}
	}
	for _, e := range sortEntries(adds) {
		s.batch.Add(s.c.sets.name(e.set), e.entry)
	}
	for _, e := range sortEntries(dels) {
		s.batch.Del(s.c.sets.name(e.set), e.entry)
	}
	if s.batch.Empty() {
		return nil
	}
	if err := s.b.opts.IPSet.Apply(s.ctx, s.batch); err != nil {
		return fmt.Errorf("updating ipsets: %w", err)
	}
	return nil
}

// readSets returns the entries of the family's sets in the kernel; a missing set
// reads as empty.
func (s *syncer) readSets() ([numSets]map[string]struct{}, error) {
	var have [numSets]map[string]struct{}
	byName := map[string]setID{}
	for id := range numSets {
		have[id] = map[string]struct{}{}
		byName[s.c.sets.name(id)] = id
	}
	sets, err := s.b.opts.IPSet.List(s.ctx)
	if err != nil {
		return have, fmt.Errorf("listing ipsets: %w", err)
	}
	for _, set := range sets {
		id, ok := byName[set.Name]
		if !ok {
			continue
		}
		if set.Type != s.c.sets[id].Type || set.Family != s.c.sets[id].Family {
			return have, fmt.Errorf("ipset %s exists as %s %s, not %s %s: delete it (kproxy --cleanup)",
				set.Name, set.Type, set.Family, s.c.sets[id].Type, s.c.sets[id].Family)
		}
		for _, e := range set.Entries {
			have[id][e] = struct{}{}
		}
	}
	return have, nil
}

// entryDiff compares wanted counts with kernel contents.
func entryDiff(want [numSets]map[string]int, have [numSets]map[string]struct{}) (adds, dels []setEntry) {
	for id := range numSets {
		for e := range want[id] {
			if _, ok := have[id][e]; !ok {
				adds = append(adds, setEntry{id, e})
			}
		}
		for e := range have[id] {
			if _, ok := want[id][e]; !ok {
				dels = append(dels, setEntry{id, e})
			}
		}
	}
	return adds, dels
}

// entryCrossings returns the entries a delta added to or removed from the sets.
func entryCrossings(now [numSets]map[string]int, d *delta) (adds, dels []setEntry) {
	for id := range numSets {
		added, removed := crossings(now[id], d.entries[id])
		for _, e := range added {
			adds = append(adds, setEntry{id, e})
		}
		for _, e := range removed {
			dels = append(dels, setEntry{id, e})
		}
	}
	return adds, dels
}

func sortEntries(es []setEntry) []setEntry {
	slices.SortFunc(es, func(a, b setEntry) int {
		return cmp.Or(cmp.Compare(a.set, b.set), cmp.Compare(a.entry, b.entry))
	})
	return es
}
