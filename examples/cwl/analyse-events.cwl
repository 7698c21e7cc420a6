cwlVersion: v1.2
class: CommandLineTool
label: Analyse simulated air showers
doc: |
  Reads event files written by simulate-showers.cwl and reduces them to one JSON
  summary: events per run, a histogram of primary energies in logarithmic bins
  (with the mean depth of shower maximum in each bin), and the spectral index
  fitted by maximum likelihood for a power law truncated to the simulated energy
  range, with its statistical uncertainty. All runs must share one energy range,
  and no two runs may come from the same seed. Prints a short report on stdout.
  Needs python3 (standard library only).

requirements:
  InitialWorkDirRequirement:
    listing:
      - entryname: analyse_events.py
        entry: |
          import argparse
          import json
          import math
          import statistics
          import sys


          def read_run(path):
              with open(path) as stream:
                  records = [json.loads(line) for line in stream if line.strip()]
              if not records or records[0].get("record") != "run":
                  sys.exit(f"{path}: not an event file (the first record must be a run record)")
              run, events = records[0], records[1:]
              if len(events) != run["n_events"]:
                  sys.exit(f"{path}: {len(events)} events, but the run record says "
                           f"{run['n_events']}: the file is truncated or edited")
              return run, events


          def check_runs(paths, runs):
              ranges = {tuple(run["energy_range_tev"]) for run in runs}
              if len(ranges) > 1:
                  sys.exit(f"the runs have different energy ranges {sorted(ranges)}: "
                           "analyse each range separately")
              seen = {}
              for path, run in zip(paths, runs):
                  if run["seed"] in seen:
                      sys.exit(f"{seen[run['seed']]} and {path} both come from seed "
                               f"{run['seed']}, so their events are identical: drop one")
                  seen[run["seed"]] = path
              return ranges.pop()


          def mean_log_energy(index, e_min, e_max):
              # Expected mean of ln(E) for dN/dE ~ E^-index truncated to [e_min, e_max].
              s = 1.0 - index
              if abs(s) < 1e-6:
                  return 0.5 * (math.log(e_min) + math.log(e_max))
              a, b = e_min**s, e_max**s
              return (b * math.log(e_max) - a * math.log(e_min)) / (b - a) - 1.0 / s


          def fit_index(energies, e_min, e_max):
              # The likelihood is maximal where the model's mean ln(E) equals the
              # sample's; that mean falls as the index grows, so bisection finds it.
              if len(energies) < 2:
                  return None
              target = statistics.fmean(math.log(e) for e in energies)
              low, high = -5.0, 10.0
              if not mean_log_energy(high, e_min, e_max) < target < mean_log_energy(low, e_min, e_max):
                  return None
              for _ in range(200):
                  middle = 0.5 * (low + high)
                  if mean_log_energy(middle, e_min, e_max) > target:
                      low = middle
                  else:
                      high = middle
              index = 0.5 * (low + high)
              # Fisher information: N times the variance of ln(E), which is minus the
              # derivative of the mean of ln(E) with respect to the index.
              step = 1e-4
              variance = (mean_log_energy(index - step, e_min, e_max)
                          - mean_log_energy(index + step, e_min, e_max)) / (2.0 * step)
              return {"index": round(index, 4),
                      "uncertainty": round(1.0 / math.sqrt(len(energies) * variance), 4),
                      "method": "unbinned maximum likelihood, truncated power law"}


          def histogram(events, e_min, e_max, n_bins):
              step = math.log10(e_max / e_min) / n_bins
              edges = [e_min * 10 ** (i * step) for i in range(n_bins + 1)]
              bins = [[] for _ in range(n_bins)]
              for event in events:
                  position = int(math.log10(event["energy_tev"] / e_min) / step)
                  bins[min(max(position, 0), n_bins - 1)].append(event)
              return {
                  "energy_edges_tev": [round(edge, 6) for edge in edges],
                  "counts": [len(members) for members in bins],
                  "mean_xmax_g_cm2": [
                      round(statistics.fmean(e["xmax_g_cm2"] for e in members), 1)
                      if members else None
                      for members in bins
                  ],
              }


          def main():
              parser = argparse.ArgumentParser(prog="analyse_events.py")
              parser.add_argument("--bins", type=int, required=True)
              parser.add_argument("--output", required=True)
              parser.add_argument("event_files", nargs="+")
              options = parser.parse_args()
              if options.bins < 1:
                  sys.exit(f"--bins {options.bins}: need at least one bin")

              runs, events = [], []
              for path in options.event_files:
                  run, run_events = read_run(path)
                  runs.append(run)
                  events += run_events
              e_min, e_max = check_runs(options.event_files, runs)

              energies = [event["energy_tev"] for event in events]
              summary = {
                  "n_runs": len(runs),
                  "n_events": len(events),
                  "runs": [
                      {"file": path.rsplit("/", 1)[-1], "seed": run["seed"], "n_events": run["n_events"]}
                      for path, run in zip(options.event_files, runs)
                  ],
                  "simulated_spectral_index": sorted({run["spectral_index"] for run in runs}),
                  "energy_range_tev": [e_min, e_max],
                  "median_energy_tev": statistics.median(energies) if energies else None,
                  "histogram": histogram(events, e_min, e_max, options.bins),
                  "fitted_spectral_index": fit_index(energies, e_min, e_max),
              }
              with open(options.output, "w") as stream:
                  json.dump(summary, stream, indent=2)
                  stream.write("\n")

              fit = summary["fitted_spectral_index"]
              print(f"events: {summary['n_events']}, runs: {summary['n_runs']}")
              if fit:
                  print(f"fitted spectral index {fit['index']} +- {fit['uncertainty']}")
              else:
                  print("spectral index not fitted: too few events")
              for low, count in zip(summary["histogram"]["energy_edges_tev"],
                                    summary["histogram"]["counts"]):
                  print(f"  E >= {low:10.4f} TeV  {count:6d}")


          if __name__ == "__main__":
              main()

baseCommand: [python3, analyse_events.py]

inputs:
  event_files:
    type: File[]
    doc: Event files from simulate-showers.cwl, one per run.
    inputBinding: {position: 3}
  n_bins:
    type: int
    default: 10
    doc: Number of logarithmic energy bins of the histogram.
    inputBinding: {position: 1, prefix: --bins}
  summary_name:
    type: string
    default: shower-summary.json
    doc: Name of the JSON summary to write.
    inputBinding: {position: 2, prefix: --output}

outputs:
  summary:
    type: File
    doc: JSON summary (runs, energy histogram, fitted spectral index).
    outputBinding:
      glob: $(inputs.summary_name)
  report:
    type: stdout

stdout: analyse-events.txt
