"""GPAW worker, run by Debian's /usr/bin/python3 (which has GPAW) in a subprocess.

    /usr/bin/python3 gpaw_worker.py job.json

job.json: {"structure": <extxyz path>, "settings": {...}, "result": <json path>, "txt": <log>,
optional "relax": {"fmax": eV/Å, "steps": n, "trajectory": <path>}}.
Only ase, gpaw, numpy and json are imported here, so the project's venv never needs GPAW.
Writes energy (eV), forces (eV/Å), stress (eV/Å^3, ASE convention; periodic cells only) and
provenance to the result file. A relaxation runs in this one process so GPAW reuses its wave
functions between steps (a subprocess per step would restart every SCF from scratch), and it
resumes from the last frame of its trajectory after a kill.
"""

import json
import sys
import time

import ase.io
import numpy as np


def calculator(atoms, settings, txt):
    import gpaw
    from gpaw import GPAW, PW, FermiDirac

    spin = bool(atoms.info.get("spin_polarized", False))
    # A spin-polarised cluster started without moments stays non-magnetic; its ground state
    # may be found only from one start, so a caller runs each start it needs (data/README.md)
    start_moment = settings.get("initial_magmom_per_atom") if spin else None
    if start_moment is not None:
        atoms.set_initial_magnetic_moments([start_moment] * len(atoms))
    # Even Monkhorst-Pack meshes are shifted off Γ, which breaks the point symmetry of fcc-
    # and hexagonal-lattice cells; "kpoint_gamma: true" centres them on Γ (data/README.md).
    gamma_centred = bool(settings.get("kpoint_gamma", False))
    kpts = {"density": settings["kpoint_density"], "even": True, "gamma": gamma_centred or None}
    if atoms.info.get("gamma_only"):
        kpts = (1, 1, 1)
    calc = GPAW(
        mode=PW(settings["pw_cutoff_eV"]),
        xc=settings.get("xc", "PBE"),
        kpts=kpts,
        occupations=FermiDirac(settings["smearing_eV"]),
        spinpol=spin,
        hund=bool(atoms.info.get("hund", False)),
        symmetry="off" if settings.get("symmetry_off") else {},
        convergence={"energy": settings.get("scf_energy_eV", 1e-6)},
        # a start that sloshes between moments is cut short and recorded as a failure
        **({"maxiter": settings["scf_maxiter"]} if "scf_maxiter" in settings else {}),
        txt=txt,
    )
    provenance = {
        "code": "GPAW",
        "code_version": gpaw.__version__,
        "xc": settings.get("xc", "PBE"),
        "pw_cutoff_eV": settings["pw_cutoff_eV"],
        "kpoints": "gamma" if atoms.info.get("gamma_only") else
        f"density {settings['kpoint_density']} /Angstrom^-1, even "
        + ("Gamma-centred" if gamma_centred else "Monkhorst-Pack"),
        "smearing": f"Fermi-Dirac {settings['smearing_eV']} eV",
        "spin_polarized": spin,
        **({"initial_magmom_per_atom": start_moment} if start_moment is not None else {}),
        "energy_reference": "GPAW reference: energies relative to GPAW's non-spin-polarised "
        "isolated-atom setups",
    }
    return calc, provenance


def relax(atoms, fmax, steps, trajectory):
    """BFGS on the positions, continuing from the trajectory's last frame if there is one."""
    import os

    from ase.io.trajectory import Trajectory
    from ase.optimize import BFGS

    done = 0
    if os.path.exists(trajectory) and os.path.getsize(trajectory) > 0:
        frames = ase.io.read(trajectory, ":")
        atoms.positions = frames[-1].positions
        done = len(frames)
    with Trajectory(trajectory, "a", atoms) as traj:
        opt = BFGS(atoms, logfile=None)
        opt.attach(traj)
        converged = bool(opt.run(fmax=fmax, steps=max(steps - done, 0)))
    return {"positions": atoms.positions.tolist(), "converged": converged,
            "steps": done + opt.nsteps}


def main(job_path):
    job = json.load(open(job_path))
    atoms = ase.io.read(job["structure"])
    if atoms.info.get("force_pbc", True):
        atoms.pbc = True  # plane waves need a periodic box; clusters get a large vacuum cell
    calc, provenance = calculator(atoms, job["settings"], job["txt"])
    atoms.calc = calc
    start = time.time()
    result = relax(atoms, **job["relax"]) if job.get("relax") else {}
    result.update(energy=float(atoms.get_potential_energy()), forces=atoms.get_forces().tolist())
    if atoms.info.get("want_stress", True):
        result["stress"] = atoms.get_stress().tolist()
    if calc.get_number_of_spins() == 2:
        result["magmom"] = float(calc.get_magnetic_moment())
    result["provenance"] = {**provenance, "seconds": time.time() - start,
                            "nkpts": int(len(calc.get_ibz_k_points()))}
    with open(job["result"], "w") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main(sys.argv[1]))
