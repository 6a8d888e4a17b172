import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Python SDK's virtual environment, from PYTHON_SDK_VENV (set by scripts/test.sh), checked to
 * hold `bin/<program>`; a clear error saying how to make it otherwise.
 */
export function pythonSdkVenv(program = 'python'): string {
  const venv = process.env['PYTHON_SDK_VENV'];
  const howTo =
    'run the suite with "npm test" (scripts/test.sh makes the environment), or run ' +
    '`bash scripts/python-sdk-venv.sh` and set PYTHON_SDK_VENV to the directory it prints';
  if (!venv) throw new Error(`PYTHON_SDK_VENV is not set: this test needs the Python SDK's virtual environment; ${howTo}`);
  if (!existsSync(join(venv, 'bin', program))) throw new Error(`PYTHON_SDK_VENV=${venv} has no bin/${program}; ${howTo}`);
  return venv;
}
