export function Later({ title, known }) {
  return (
    <main>
      <h1>{title}</h1>
      <p class="muted">{known ? 'This page is not built yet.' : 'There is no such page.'}</p>
    </main>
  );
}
