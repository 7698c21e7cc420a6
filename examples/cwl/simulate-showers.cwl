cwlVersion: v1.2
class: CommandLineTool
label: Simulate air showers
doc: |
  Draws a run of simulated gamma-ray air showers: primary energies from a power-law
  spectrum dN/dE ~ E^-spectral_index, impact points uniform on a disk around the
  array centre, and the depth of shower maximum from the Heitler model with
  fluctuations (Xmax as slant depth along the shower axis and as vertical depth).
  Writes one event file in JSON lines: a run record first, then one record per event. The same seed gives the same file with the same Python version.
  Needs python3 (standard library only).

requirements:
  InitialWorkDirRequirement:
    listing:
      - entryname: simulate_showers.py
        entry: |
          import json
          import math
          import random
          import sys

          # Heitler model of an electromagnetic cascade: radiation length of air in
          # g/cm2 and critical energy of electrons in air in TeV.
          RADIATION_LENGTH = 36.7
          CRITICAL_ENERGY_TEV = 85e-6
          XMAX_SPREAD = 0.5 * RADIATION_LENGTH * math.sqrt(2.0)


          def draw_energy(rng, e_min, e_max, index):
              u = rng.random()
              if abs(index - 1.0) < 1e-9:
                  return e_min * (e_max / e_min) ** u
              s = 1.0 - index
              return (e_min**s + u * (e_max**s - e_min**s)) ** (1.0 / s)


          def main(seed, n_events, index, e_min, e_max, max_impact, zenith, output):
              if not 0.0 <= zenith < 90.0:
                  sys.exit(f"zenith_deg is {zenith}: it must be in [0, 90)")
              if n_events < 0:
                  sys.exit(f"n_events is {n_events}: it must be zero or more")
              if not 0.0 < e_min < e_max:
                  sys.exit(f"energy range [{e_min}, {e_max}] TeV: need 0 < min < max")
              if max_impact <= 0.0:
                  sys.exit(f"max_impact_m is {max_impact}: it must be positive")
              rng = random.Random(seed)
              run = {
                  "record": "run",
                  "primary": "gamma",
                  "seed": seed,
                  "n_events": n_events,
                  "spectral_index": index,
                  "energy_range_tev": [e_min, e_max],
                  "max_impact_m": max_impact,
                  "zenith_deg": zenith,
              }
              cos_zenith = math.cos(math.radians(zenith))
              with open(output, "w") as stream:
                  stream.write(json.dumps(run) + "\n")
                  for event_id in range(1, n_events + 1):
                      energy = draw_energy(rng, e_min, e_max, index)
                      radius = max_impact * math.sqrt(rng.random())
                      angle = rng.uniform(-math.pi, math.pi)
                      xmax = RADIATION_LENGTH * math.log(energy / CRITICAL_ENERGY_TEV)
                      xmax += rng.gauss(0.0, XMAX_SPREAD)
                      event = {
                          "record": "event",
                          "event_id": event_id,
                          "energy_tev": round(energy, 6),
                          "core_x_m": round(radius * math.cos(angle), 2),
                          "core_y_m": round(radius * math.sin(angle), 2),
                          "xmax_g_cm2": round(xmax, 1),
                          "xmax_vertical_g_cm2": round(xmax * cos_zenith, 1),
                      }
                      stream.write(json.dumps(event) + "\n")
              print(f"wrote {n_events} events to {output}")


          if __name__ == "__main__":
              args = sys.argv[1:]
              main(int(args[0]), int(args[1]), float(args[2]), float(args[3]),
                   float(args[4]), float(args[5]), float(args[6]), args[7])

baseCommand: [python3, simulate_showers.py]

inputs:
  seed:
    type: int
    doc: Seed of the random number generator; one run per seed.
    inputBinding: {position: 1}
  n_events:
    type: int
    doc: Number of showers to draw.
    inputBinding: {position: 2}
  spectral_index:
    type: double
    default: 2.0
    doc: Index of the power-law spectrum dN/dE ~ E^-index (2.0 is usual for simulations).
    inputBinding: {position: 3}
  energy_min_tev:
    type: double
    default: 0.01
    doc: Lowest primary energy in TeV.
    inputBinding: {position: 4}
  energy_max_tev:
    type: double
    default: 100.0
    doc: Highest primary energy in TeV.
    inputBinding: {position: 5}
  max_impact_m:
    type: double
    default: 1000.0
    doc: Radius in metres of the disk on which impact points are drawn.
    inputBinding: {position: 6}
  zenith_deg:
    type: double
    default: 20.0
    doc: Zenith angle of the showers in degrees, used to convert Xmax to vertical depth.
    inputBinding: {position: 7}

arguments:
  - position: 8
    valueFrom: showers-seed$(inputs.seed).jsonl

outputs:
  events:
    type: File
    doc: Event file showers-seed<seed>.jsonl (run record, then one record per shower).
    outputBinding:
      glob: showers-seed$(inputs.seed).jsonl
  log:
    type: stdout

stdout: simulate-showers.log
