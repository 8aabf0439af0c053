import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';

/** Table and toolbar look shared by the list pages, from the theme so dark and light both work. */
export const getListStyles = (theme: GrafanaTheme2) => ({
  toolbar: css({
    display: 'flex',
    gap: theme.spacing(1),
    alignItems: 'flex-end',
    flexWrap: 'wrap',
    marginBottom: theme.spacing(2),
    '& > *': { flexShrink: 0 },
  }),
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    'th, td': {
      padding: theme.spacing(0.5, 1),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
      textAlign: 'left',
      verticalAlign: 'middle',
    },
    th: { color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightMedium },
  }),
  numeric: css({ textAlign: 'right', fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }),
  nowrap: css({ whiteSpace: 'nowrap' }),
  link: css({ color: theme.colors.text.link, '&:hover': { textDecoration: 'underline' } }),
  command: css({
    maxWidth: 420,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
    fontFamily: theme.typography.fontFamilyMonospace,
  }),
  actions: css({ display: 'flex', gap: theme.spacing(0.5), flexWrap: 'nowrap' }),
  footer: css({ marginTop: theme.spacing(2) }),
});
