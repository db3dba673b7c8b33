import { useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../api/client';

// A task's form rendered with form-js (@bpmn-io/form-js-viewer, loaded on first use), filled
// with the task's variables; submitting hands the form's data to onSubmit when it validates.
export function FormJsForm(props: {
  schema: Record<string, unknown>;
  data: Record<string, unknown>;
  disabled: boolean;
  onSubmit: (data: Record<string, unknown>) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const form = useRef<{ submit(): { data: Record<string, unknown>; errors: Record<string, unknown> } }>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let instance: { destroy(): void } | undefined;
    let cancelled = false;
    (async () => {
      const [{ Form }] = await Promise.all([
        import('@bpmn-io/form-js-viewer'),
        import('@bpmn-io/form-js-viewer/dist/assets/form-js.css'),
      ]);
      if (cancelled || !container.current) return;
      const created = new Form({ container: container.current });
      instance = created;
      await created.importSchema(props.schema, props.data);
      form.current = created as never;
    })().catch((failure) => !cancelled && setError(`The form cannot be shown: ${errorMessage(failure)}`));
    return () => {
      cancelled = true;
      form.current = undefined;
      instance?.destroy();
    };
  }, [props.schema, props.data]);
  const submit = () => {
    if (!form.current) return;
    const { data, errors } = form.current.submit();
    if (Object.keys(errors).length === 0) props.onSubmit(data);
  };
  return (
    <div>
      {error ? <div class="error">{error}</div> : null}
      <div ref={container} class="formjs" data-testid="formjs" />
      <button class="primary" disabled={props.disabled} onClick={submit} data-testid="complete">
        Complete task
      </button>
    </div>
  );
}

interface Row {
  name: string;
  value: string;
}

// Parses a value typed into the variables form: JSON when it is JSON (42, true, {"a":1},
// "text"), otherwise the text itself.
export function parseValue(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

// The fallback when the task has no form, or the gateway cannot serve it: one row per variable
// (name, value as JSON or text) to complete the task with.
export function VariablesForm(props: {
  initial: Record<string, unknown>;
  disabled: boolean;
  onSubmit: (variables: Record<string, unknown>) => void;
}) {
  const initialRows = Object.entries(props.initial).map(([name, value]) => ({
    name,
    value: typeof value === 'string' ? value : JSON.stringify(value),
  }));
  const [rows, setRows] = useState<Row[]>([...initialRows, { name: '', value: '' }]);
  const [problem, setProblem] = useState<string>();
  const update = (index: number, change: Partial<Row>) => {
    const next = rows.map((row, i) => (i === index ? { ...row, ...change } : row));
    if (next[next.length - 1].name !== '') next.push({ name: '', value: '' });
    setRows(next);
  };
  const submit = (event: Event) => {
    event.preventDefault();
    const variables: Record<string, unknown> = {};
    for (const row of rows) {
      const name = row.name.trim();
      if (name === '') continue;
      if (name in variables) return setProblem(`The variable '${name}' is given twice`);
      variables[name] = parseValue(row.value);
    }
    setProblem(undefined);
    props.onSubmit(variables);
  };
  return (
    <form class="variables-form" onSubmit={submit} data-testid="variables-form">
      <table>
        <thead>
          <tr>
            <th>Variable</th>
            <th>Value (JSON or text)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={index}>
              <td>
                <input
                  value={row.name}
                  placeholder="name"
                  aria-label={`variable ${index + 1} name`}
                  data-testid={`variable-name-${index}`}
                  onInput={(e) => update(index, { name: (e.target as HTMLInputElement).value })}
                />
              </td>
              <td>
                <input
                  value={row.value}
                  placeholder="value"
                  aria-label={`variable ${index + 1} value`}
                  data-testid={`variable-value-${index}`}
                  onInput={(e) => update(index, { value: (e.target as HTMLInputElement).value })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {problem ? <div class="error">{problem}</div> : null}
      <button class="primary" type="submit" disabled={props.disabled} data-testid="complete">
        Complete task
      </button>
    </form>
  );
}
