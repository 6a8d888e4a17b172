import { NavLink, Route, Routes } from 'react-router';
import { apiKey, forgetApiKey, onKeyChange } from './api/api-key';
import { ApiKeyDialog } from './components/dialogs';
import { Empty } from './components/states';
import { AgentsPage } from './pages/agents-page';
import { ApprovalsPage } from './pages/approvals-page';
import { SchedulesPage } from './pages/schedules-page';
import { TaskPage } from './pages/task-page';
import { TasksPage } from './pages/tasks-page';
import { WorkflowsPage } from './pages/workflows-page';
import { useSyncExternalStore } from 'react';

function KeyStatus() {
  const key = useSyncExternalStore(onKeyChange, apiKey);
  if (key === null) return null;
  return (
    <button type="button" className="link" onClick={forgetApiKey} title="Forget the API key kept for this tab">
      forget API key
    </button>
  );
}

export function App() {
  return (
    <>
      <nav className="top">
        <span className="brand">orchestrator</span>
        <NavLink to="/" end>
          Tasks
        </NavLink>
        <NavLink to="/agents">Agents</NavLink>
        <NavLink to="/workflows">Workflows</NavLink>
        <NavLink to="/approvals">Approvals</NavLink>
        <NavLink to="/schedules">Schedules</NavLink>
        <span className="spacer" />
        <KeyStatus />
        <a href="/docs" target="_blank" rel="noreferrer">
          API
        </a>
      </nav>
      <main>
        <Routes>
          <Route path="/" element={<TasksPage />} />
          <Route path="/tasks/:taskId" element={<TaskPage />} />
          <Route path="/agents" element={<AgentsPage />} />
          <Route path="/workflows" element={<WorkflowsPage />} />
          <Route path="/approvals" element={<ApprovalsPage />} />
          <Route path="/schedules" element={<SchedulesPage />} />
          <Route path="*" element={<Empty title="No such page.">Go to the tasks, the agents or the workflows above.</Empty>} />
        </Routes>
      </main>
      <ApiKeyDialog />
    </>
  );
}
