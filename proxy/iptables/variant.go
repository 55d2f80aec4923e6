package iptables

import (
	"bytes"
	"context"
	"os/exec"
)

// Variant is the kernel API the iptables binaries drive: the nf_tables
// compatibility layer or the legacy xtables one.
type Variant uint8

const (
	// VariantDefault runs plain iptables-restore, whatever the node's
	// alternatives point it at.
	VariantDefault Variant = iota
	// VariantNFT runs iptables-nft-restore and friends.
	VariantNFT
	// VariantLegacy runs iptables-legacy-restore and friends.
	VariantLegacy
)

// String returns "default", "nft" or "legacy".
func (v Variant) String() string {
	switch v {
	case VariantNFT:
		return "nft"
	case VariantLegacy:
		return "legacy"
	}
	return "default"
}

// Binaries names the three commands of one family and variant.
type Binaries struct {
	// Cmd is the single-rule command, such as "iptables-nft".
	Cmd string
	// Save is the save command, such as "iptables-nft-save".
	Save string
	// Restore is the restore command, such as "iptables-nft-restore".
	Restore string
}

// Binaries returns the commands for family f, such as ip6tables-legacy-save.
func (v Variant) Binaries(f Family) Binaries {
	cmd := "iptables"
	if f == IPv6 {
		cmd = "ip6tables"
	}
	switch v {
	case VariantNFT:
		cmd += "-nft"
	case VariantLegacy:
		cmd += "-legacy"
	}
	return Binaries{Cmd: cmd, Save: cmd + "-save", Restore: cmd + "-restore"}
}

// hintChains are the chains kubelet and kube-proxy create in the mangle
// table to tell later components which variant the node uses.
var hintChains = [][]byte{[]byte("\n:KUBE-IPTABLES-HINT "), []byte("\n:KUBE-KUBELET-CANARY ")}

// runFunc runs a command and returns its standard output.
type runFunc func(ctx context.Context, name string, args ...string) ([]byte, error)

func runCommand(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).Output()
}

// Detect finds the variant the node already uses, the way kube-proxy's
// iptables wrapper does: the nft variant wins when its rules hold the
// KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY chain, then the legacy variant
// when its rules do; otherwise the variant holding more rules wins, nft on a
// tie. Both families are inspected. When neither the nft nor the legacy
// binaries exist, Detect returns VariantDefault. Detect only reads rules.
func Detect(ctx context.Context) (Variant, error) {
	return detect(ctx, runCommand, exec.LookPath)
}

func detect(ctx context.Context, run runFunc, look func(string) (string, error)) (Variant, error) {
	var nft, legacy bytes.Buffer
	haveNFT, haveLegacy := false, false
	for _, f := range []Family{IPv4, IPv6} {
		for _, v := range []Variant{VariantNFT, VariantLegacy} {
			save := v.Binaries(f).Save
			if _, err := look(save); err != nil {
				continue
			}
			out, _ := run(ctx, save) // a family the kernel lacks is not an error
			if err := ctx.Err(); err != nil {
				return VariantDefault, err
			}
			if v == VariantNFT {
				haveNFT = true
				nft.WriteByte('\n')
				nft.Write(out)
			} else {
				haveLegacy = true
				legacy.WriteByte('\n')
				legacy.Write(out)
			}
		}
	}
	switch {
	case haveNFT && haveLegacy:
		return chooseVariant(nft.Bytes(), legacy.Bytes()), nil
	case haveNFT:
		return VariantNFT, nil
	case haveLegacy:
		return VariantLegacy, nil
	}
	return VariantDefault, nil
}

// chooseVariant picks a variant from the iptables-save output of both.
// Each output must start with a newline so hint chains on its first line
// are found too.
func chooseVariant(nft, legacy []byte) Variant {
	switch {
	case hasHint(nft):
		return VariantNFT
	case hasHint(legacy):
		return VariantLegacy
	case countRules(legacy) > countRules(nft):
		return VariantLegacy
	}
	return VariantNFT
}

func hasHint(save []byte) bool {
	for _, h := range hintChains {
		if bytes.Contains(save, h) {
			return true
		}
	}
	return false
}

func countRules(save []byte) int {
	return bytes.Count(save, []byte("\n-A "))
}
