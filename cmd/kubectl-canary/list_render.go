package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// listRow is one line of `list`; its JSON form is what `list -o json` prints.
// Fields with nothing to show are empty strings.
type listRow struct {
	// Kind is Ingress or HTTPRoute; an HTTPRoute's Name is "httproute/<name>".
	Kind         string          `json:"kind"`
	Namespace    string          `json:"namespace"`
	Name         string          `json:"name"`
	Phase        string          `json:"phase"`
	Step         string          `json:"step"`
	Weight       string          `json:"weight"`
	Canary       string          `json:"canary"`
	LastAnalysis string          `json:"lastAnalysis"`
	Age          string          `json:"age"`
	Status       *weights.Status `json:"status"`
	// StatusError says why the status annotation could not be read.
	StatusError string `json:"statusError,omitempty"`
}

// listRows keeps the opted-in Ingresses and HTTPRoutes and sorts them by
// namespace and name.
func listRows(objs []followed, now time.Time) []listRow {
	rows := []listRow{}
	for _, f := range objs {
		if annotations.Followed(f.Annotations) {
			row := newListRow(readRolloutOf(f), now)
			row.Kind = f.Kind
			rows = append(rows, row)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Namespace != rows[j].Namespace {
			return rows[i].Namespace < rows[j].Namespace
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

func newListRow(r rollout, now time.Time) listRow {
	row := listRow{Namespace: r.Namespace, Name: r.Name, Canary: r.revision()}
	if r.StatusErr != nil {
		row.StatusError = r.StatusErr.Error()
		return row
	}
	if !r.HasStatus {
		return row
	}
	st := r.Status
	row.Status = &st
	row.Phase = string(st.Phase)
	row.Weight = formatWeight(st.Weight)
	if total := r.totalSteps(); st.Step > 0 || total > 0 {
		row.Step = fmt.Sprintf("%d/%d", st.Step, total)
	}
	row.LastAnalysis = summarizeAnalysis(st.LastAnalysis, r.quantile())
	row.Age = age(st.Updated, now)
	return row
}

// renderList prints rows as kubectl prints tables: upper-case headers, columns
// aligned with spaces, <none> for an empty cell.
func renderList(w io.Writer, rows []listRow, withNamespace bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	header := []string{"NAME", "PHASE", "STEP", "WEIGHT", "CANARY", "LAST ANALYSIS", "AGE"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		phase := r.Phase
		if r.StatusError != "" {
			phase = "Unreadable"
		}
		cells := []string{r.Name, phase, r.Step, r.Weight, r.Canary, r.LastAnalysis, r.Age}
		if withNamespace {
			cells = append([]string{r.Namespace}, cells...)
		}
		for i, c := range cells {
			if c == "" {
				cells[i] = "<none>"
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// writeJSON prints v indented, as kubectl's -o json does.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
