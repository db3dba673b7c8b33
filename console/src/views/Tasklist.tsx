import { useState } from 'preact/hooks';
import {
  ApiError,
  claimUserTask,
  completeUserTask,
  getUserTask,
  getUserTaskForm,
  searchUserTaskVariables,
  searchUserTasks,
  unassignUserTask,
} from '../api/client';
import type { Form, UserTask, UserTaskFilter, UserTaskState } from '../api/types';
import { Link } from '../components/Link';
import { ErrorMessage, Loading, Notice, StateBadge, formatDate } from '../components/Messages';
import { FormJsForm, VariablesForm } from '../components/TaskForm';
import { useApi } from '../hooks';
import { currentUser } from '../user';

type AssigneeChoice = 'all' | 'me';

// Tasklist: native user tasks (zeebe:userTask) filtered by state, assignee and candidate group;
// one task with claim/unclaim, its form and completion.
export function Tasklist(props: { taskKey?: string }) {
  const [state, setState] = useState<UserTaskState | ''>('CREATED');
  const [assignee, setAssignee] = useState<AssigneeChoice>('all');
  const [group, setGroup] = useState('');
  const [after, setAfter] = useState<string[]>([]); // cursors of the pages before this one
  const filter: UserTaskFilter = {};
  if (state) filter.state = state;
  if (assignee === 'me') filter.assignee = currentUser();
  if (group.trim()) filter.candidateGroup = group.trim();
  const cursor = after[after.length - 1];
  const tasks = useApi(
    () => searchUserTasks({ filter, page: { limit: 50, ...(cursor ? { after: cursor } : {}) } }),
    [state, assignee, group, cursor],
    5000,
  );
  const resetPaging = () => setAfter([]);
  return (
    <div class="split">
      <section class="list-pane">
        <h2>Tasks</h2>
        <div class="filters">
          <label>
            State{' '}
            <select
              value={state}
              data-testid="task-state-filter"
              onChange={(e) => {
                setState((e.target as HTMLSelectElement).value as UserTaskState | '');
                resetPaging();
              }}
            >
              <option value="CREATED">open</option>
              <option value="COMPLETED">completed</option>
              <option value="CANCELED">canceled</option>
              <option value="">any</option>
            </select>
          </label>
          <label>
            Assignee{' '}
            <select
              value={assignee}
              onChange={(e) => {
                setAssignee((e.target as HTMLSelectElement).value as AssigneeChoice);
                resetPaging();
              }}
            >
              <option value="all">anyone</option>
              <option value="me">me ({currentUser()})</option>
            </select>
          </label>
          <label>
            Candidate group{' '}
            <input
              value={group}
              placeholder="any"
              size={10}
              onChange={(e) => {
                setGroup((e.target as HTMLInputElement).value);
                resetPaging();
              }}
            />
          </label>
        </div>
        <ErrorMessage error={tasks.error} what="Tasks" />
        <Loading when={tasks.loading && !tasks.data} />
        {tasks.data && tasks.data.items.length === 0 ? <Notice>No tasks match.</Notice> : null}
        <ul class="task-list" data-testid="task-list">
          {tasks.data?.items.map((task) => (
            <li key={task.userTaskKey} class={task.userTaskKey === props.taskKey ? 'selected' : ''}>
              <Link href={`/tasklist/${task.userTaskKey}`}>
                <div class="task-title" data-testid="task-item">
                  {task.name || task.elementId}
                </div>
                <div class="task-meta">
                  {task.processDefinitionId} · {task.assignee ? `assigned to ${task.assignee}` : 'unassigned'}
                  {task.creationDate ? ` · ${formatDate(task.creationDate)}` : ''}
                </div>
              </Link>
            </li>
          ))}
        </ul>
        <div class="pager">
          <button disabled={after.length === 0} onClick={() => setAfter(after.slice(0, -1))}>
            Previous
          </button>
          <button
            disabled={!tasks.data?.page.endCursor || !tasks.data.page.hasMoreTotalItems}
            onClick={() => tasks.data?.page.endCursor && setAfter([...after, tasks.data.page.endCursor])}
          >
            Next
          </button>
        </div>
      </section>
      <section class="detail-pane">
        {props.taskKey ? (
          <TaskDetail key={props.taskKey} taskKey={props.taskKey} onChanged={tasks.reload} />
        ) : (
          <Notice>Pick a task on the left.</Notice>
        )}
      </section>
    </div>
  );
}

function TaskDetail(props: { taskKey: string; onChanged: () => void }) {
  const task = useApi(() => getUserTask(props.taskKey), [props.taskKey]);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const me = currentUser();

  const act = async (what: () => Promise<void>, message: string) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await what();
      setDone(message);
      task.reload();
      props.onChanged();
    } catch (error) {
      setActionError(error);
    } finally {
      setBusy(false);
    }
  };

  const complete = (variables: Record<string, unknown>) =>
    act(async () => {
      await completeUserTask(props.taskKey, variables);
    }, 'Task completed.');

  if (task.error) return <ErrorMessage error={task.error} what={`Task ${props.taskKey}`} />;
  if (!task.data) return <Loading when />;
  const t = task.data;
  const open = t.state === 'CREATED';
  const mine = t.assignee === me;
  return (
    <div class="task-detail" data-testid="task-detail">
      <h2>{t.name || t.elementId}</h2>
      <table class="facts">
        <tbody>
          <tr>
            <th>State</th>
            <td data-testid="task-state">
              <StateBadge state={t.state} />
            </td>
          </tr>
          <tr>
            <th>Assignee</th>
            <td data-testid="task-assignee">{t.assignee ?? 'unassigned'}</td>
          </tr>
          <tr>
            <th>Candidate groups</th>
            <td>{t.candidateGroups?.join(', ') || '-'}</td>
          </tr>
          <tr>
            <th>Candidate users</th>
            <td>{t.candidateUsers?.join(', ') || '-'}</td>
          </tr>
          <tr>
            <th>Process</th>
            <td>
              {t.processDefinitionId} v{t.processDefinitionVersion} · instance{' '}
              <Link href={`/instances/${t.processInstanceKey}`}>{t.processInstanceKey}</Link>
            </td>
          </tr>
          <tr>
            <th>Created</th>
            <td>{formatDate(t.creationDate)}</td>
          </tr>
          {t.dueDate ? (
            <tr>
              <th>Due</th>
              <td>{formatDate(t.dueDate)}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {open ? (
        <div class="actions">
          {t.assignee ? (
            <button disabled={busy} data-testid="unclaim" onClick={() => act(() => unassignUserTask(t.userTaskKey), 'Task unclaimed.')}>
              Unclaim
            </button>
          ) : (
            <button
              class="primary"
              disabled={busy}
              data-testid="claim"
              onClick={() => act(() => claimUserTask(t.userTaskKey, me), `Task claimed by ${me}.`)}
            >
              Claim
            </button>
          )}
        </div>
      ) : null}
      {done ? (
        <div class="success" role="status" data-testid="action-done">
          {done}
        </div>
      ) : null}
      <ErrorMessage error={actionError} />
      {open ? (
        <TaskFormSection task={t} disabled={busy || !mine} onSubmit={complete} hint={!mine} />
      ) : null}
      {!open && t.state === 'COMPLETED' ? (
        <p>
          <Link href="/tasklist">Back to the open tasks</Link>
        </p>
      ) : null}
    </div>
  );
}

interface FormState {
  form?: Form;
  formError?: unknown;
  variables: Record<string, unknown>;
  variablesError?: unknown;
}

// The task's form (form-js) when the gateway serves it; otherwise a variables form, saying why.
function TaskFormSection(props: {
  task: UserTask;
  disabled: boolean;
  hint: boolean;
  onSubmit: (variables: Record<string, unknown>) => void;
}) {
  const loaded = useApi<FormState>(async () => {
    const result: FormState = { variables: {} };
    try {
      const found = await searchUserTaskVariables(props.task.userTaskKey);
      for (const variable of found.items) {
        try {
          result.variables[variable.name] = JSON.parse(variable.value);
        } catch {
          result.variables[variable.name] = variable.value;
        }
      }
    } catch (error) {
      result.variablesError = error;
    }
    if (props.task.formKey) {
      try {
        result.form = await getUserTaskForm(props.task.userTaskKey);
      } catch (error) {
        result.formError = error;
      }
    }
    return result;
  }, [props.task.userTaskKey, props.task.formKey]);
  if (!loaded.data) return <Loading when />;
  const { form, formError, variables, variablesError } = loaded.data;
  const schema = form ? parseSchema(form.schema) : undefined;
  return (
    <div class="task-form">
      <h3>Form</h3>
      {props.hint ? <Notice>Claim the task to complete it.</Notice> : null}
      {variablesError instanceof ApiError && variablesError.notImplemented ? (
        <Notice>The task's variables cannot be read from this gateway yet (501); the form starts empty.</Notice>
      ) : (
        <ErrorMessage error={variablesError} what="Task variables" />
      )}
      {props.task.formKey && formError instanceof ApiError && formError.notImplemented ? (
        <Notice>
          This task has a form ({props.task.formKey}), which this gateway does not serve yet (501): complete it
          with variables instead.
        </Notice>
      ) : (
        <ErrorMessage error={formError} what="Form" />
      )}
      {schema ? (
        <FormJsForm schema={schema} data={variables} disabled={props.disabled} onSubmit={props.onSubmit} />
      ) : (
        <VariablesForm initial={{}} disabled={props.disabled} onSubmit={props.onSubmit} />
      )}
    </div>
  );
}

function parseSchema(schema: Form['schema']): Record<string, unknown> | undefined {
  if (!schema) return undefined;
  if (typeof schema === 'string') {
    try {
      return JSON.parse(schema) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
  return schema;
}
