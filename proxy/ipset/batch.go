package ipset

import (
	"strings"
)

// OpKind is the kind of one batch operation.
type OpKind uint8

// The operations of a batch, named as in ipset's syntax.
const (
	OpCreate OpKind = iota
	OpAdd
	OpDel
	OpFlush
	OpDestroy
)

var opNames = [...]string{"create", "add", "del", "flush", "destroy"}

// String returns the operation's ipset command.
func (k OpKind) String() string { return opNames[k] }

// Op is one operation of a Batch.
type Op struct {
	Kind OpKind
	// Set is the set to create (OpCreate); only its Name is used otherwise.
	Set Set
	// Entry is the entry to add or delete.
	Entry string
}

// Batch is a list of operations applied in order by Interface.Apply, with "-exist"
// semantics: creating a set that exists identically, adding an entry that is
// there and deleting one that is not are no-ops. The zero value is empty and
// ready to use; Reset keeps the memory.
type Batch struct {
	ops []Op
}

// Create creates s unless it exists with the same type and options.
func (b *Batch) Create(s Set) { b.ops = append(b.ops, Op{Kind: OpCreate, Set: s.Normalize()}) }

// Add adds entry to the set named name.
func (b *Batch) Add(name, entry string) {
	b.ops = append(b.ops, Op{Kind: OpAdd, Set: Set{Name: name}, Entry: entry})
}

// Del deletes entry from the set named name.
func (b *Batch) Del(name, entry string) {
	b.ops = append(b.ops, Op{Kind: OpDel, Set: Set{Name: name}, Entry: entry})
}

// Flush empties the set named name.
func (b *Batch) Flush(name string) { b.ops = append(b.ops, Op{Kind: OpFlush, Set: Set{Name: name}}) }

// Destroy removes the set named name, which must exist and not be in use.
func (b *Batch) Destroy(name string) {
	b.ops = append(b.ops, Op{Kind: OpDestroy, Set: Set{Name: name}})
}

// Ops returns the operations in order; the slice must not be modified.
func (b *Batch) Ops() []Op { return b.ops }

// Len returns the number of operations.
func (b *Batch) Len() int { return len(b.ops) }

// Empty reports whether the batch holds no operation.
func (b *Batch) Empty() bool { return len(b.ops) == 0 }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() { b.ops = b.ops[:0] }

// String returns the batch as "ipset restore" input, one command per line.
func (b *Batch) String() string {
	var sb strings.Builder
	for _, op := range b.ops {
		sb.WriteString(op.Kind.String())
		sb.WriteByte(' ')
		sb.WriteString(op.Set.Name)
		switch op.Kind {
		case OpCreate:
			sb.WriteByte(' ')
			sb.WriteString(op.Set.CreateOptions())
		case OpAdd, OpDel:
			sb.WriteByte(' ')
			sb.WriteString(op.Entry)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
