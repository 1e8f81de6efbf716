// Progressive enhancement only: every page works without this file.
document.addEventListener('submit', (event) => {
  const message = event.target instanceof HTMLFormElement ? event.target.dataset.confirm : undefined;
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
  if (!button) return;
  const field = document.getElementById(button.getAttribute('data-copy'));
  if (!field) return;
  navigator.clipboard?.writeText(field.value).then(() => { button.textContent = 'Copied'; }, () => field.select());
});
// A metadata file picked in the SSO wizard goes into its textarea (the form posts the text).
document.addEventListener('change', (event) => {
  const input = event.target instanceof HTMLInputElement && event.target.type === 'file' ? event.target : null;
  const target = input?.dataset.into ? document.getElementById(input.dataset.into) : null;
  const file = input?.files?.[0];
  if (target && file) file.text().then((text) => { target.value = text; });
});
