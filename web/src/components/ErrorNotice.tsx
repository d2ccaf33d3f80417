// Shows an API failure with the API's own words; a 401 also says how to get a token.
import { Link } from "react-router-dom";
import { ApiError } from "../lib/api";

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  const status = error instanceof ApiError ? error.status : null;
  const detail = error instanceof ApiError ? error.detail : String(error);
  return (
    <div role="alert" className="error">
      {status ? <strong>{status}: </strong> : null}
      {detail}
      {status === 401 ? (
        <>
          {" "}
          <Link to="/login">Log in again</Link>
        </>
      ) : null}
    </div>
  );
}
